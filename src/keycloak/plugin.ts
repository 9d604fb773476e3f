import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createKeycloakAdmin, type KeycloakAdmin } from './admin.js';

declare module 'fastify' {
  interface FastifyInstance {
    keycloak: KeycloakAdmin;
  }
}

/** Decorates the app with the one Keycloak admin connection it uses. It opens nothing until the first call. */
export const keycloakPlugin = fp(
  async (app: FastifyInstance, options: { config: Config['keycloak']; admin?: KeycloakAdmin }) => {
    app.decorate('keycloak', options.admin ?? createKeycloakAdmin(options.config, app.metrics));
  },
  { name: 'keycloak', dependencies: ['metrics'] },
);
