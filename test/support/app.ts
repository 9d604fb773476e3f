import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { type AppDeps, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { testConfig } from './keycloak.js';

export interface Answer<T = Record<string, unknown>> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
}

export interface TestApp {
  app: FastifyInstance;
  /** One HTTP call through app.inject, as a caller with this bearer token. */
  call<T = Record<string, unknown>>(
    method: InjectOptions['method'],
    url: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer<T>>;
  close(): Promise<void>;
}

/** The service built with buildApp against the run's real Keycloak (deps: e.g. a clock ahead, lock timing). */
export async function startTestApp(overrides: Partial<Config> = {}, deps: AppDeps = {}): Promise<TestApp> {
  const app = await buildApp(testConfig(overrides), deps);
  await app.ready();
  return {
    app,
    async call(method, url, options = {}) {
      const response = await app.inject({
        method,
        url,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
      });
      const text = response.body;
      return {
        status: response.statusCode,
        headers: response.headers,
        body: (text && /json/.test(String(response.headers['content-type']))
          ? JSON.parse(text)
          : text) as never,
      };
    },
    close: () => app.close(),
  };
}

/** A fresh account id for one test: only a platform admin (paula) can act on it. */
export function uniqueAccount(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export const clientsUrl = (accountId: string): string => `/v1/accounts/${accountId}/api-clients`;
export const clientUrl = (accountId: string, clientId: string): string =>
  `/v1/accounts/${accountId}/api-clients/${encodeURIComponent(clientId)}`;
