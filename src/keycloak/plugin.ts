import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createKeycloakAdmin, type KeycloakAdmin, type KeycloakObserver } from './admin.js';

declare module 'fastify' {
  interface FastifyInstance {
    keycloak: KeycloakAdmin;
  }
}

/** Decorates the app with the one Keycloak admin connection it uses. It opens nothing until the first call. */
export const keycloakPlugin = fp(
  async (
    app: FastifyInstance,
    options: { config: Config['keycloak']; observer?: KeycloakObserver; admin?: KeycloakAdmin },
  ) => {
    app.decorate('keycloak', options.admin ?? createKeycloakAdmin(options.config, options.observer));
  },
  { name: 'keycloak' },
);
