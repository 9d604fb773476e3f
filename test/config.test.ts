import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const minimal = { KEYCLOAK_URL: 'http://127.0.0.1:8080', KEYCLOAK_CLIENT_SECRET: 's3cret' };

describe('configuration from the environment', () => {
  it('applies defaults to a minimal environment', () => {
    const config = loadConfig(minimal);
    expect(config.port).toBe(3000);
    expect(config.keycloak.realm).toBe('platform');
    expect(config.limits.defaultMaxApiClients).toBe(5);
    expect(config.secretRevealEnabled).toBe(true);
  });

  it('coerces typed values and splits lists', () => {
    const config = loadConfig({
      ...minimal,
      PORT: '8081',
      SECRET_REVEAL_ENABLED: 'false',
      CORS_ORIGINS: 'https://a.example.test, https://b.example.test',
    });
    expect(config.port).toBe(8081);
    expect(config.secretRevealEnabled).toBe(false);
    expect(config.corsOrigins).toEqual(['https://a.example.test', 'https://b.example.test']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KEYCLOAK_URL: 'keycloak:8080' }, 'KEYCLOAK_URL'],
    [{ KEYCLOAK_TIMEOUT_MS: '0' }, 'KEYCLOAK_TIMEOUT_MS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DEFAULT_MAX_API_CLIENTS: '-1' }, 'DEFAULT_MAX_API_CLIENTS'],
    [{ KEYCLOAK_CALLS_ALLOWED_ORIGINS: 'https://receiver.example.com' }, 'KEYCLOAK_CALLS_ALLOWED_ORIGINS'],
    [{ KEYCLOAK_CALLS_ALLOWED_ORIGINS: 'http://127.0.0.1:9000/logout' }, 'KEYCLOAK_CALLS_ALLOWED_ORIGINS'],
    [{ KEYCLOAK_CALLS_ALLOWED_ORIGINS: 'https://*.corp:443' }, 'KEYCLOAK_CALLS_ALLOWED_ORIGINS'],
  ])('refuses %o with a message naming %s', (bad, variable) => {
    expect(() => loadConfig({ ...minimal, ...bad })).toThrow(variable);
  });

  it('reads KEYCLOAK_CALLS_ALLOWED_ORIGINS as exact origins, none by default', () => {
    expect(loadConfig(minimal).urlSafety.allowedOrigins).toEqual([]);
    const config = loadConfig({
      ...minimal,
      KEYCLOAK_CALLS_ALLOWED_ORIGINS: 'http://127.0.0.1:9000, HTTPS://Receiver.corp:443',
    });
    expect(config.urlSafety.allowedOrigins).toEqual(['http://127.0.0.1:9000', 'https://receiver.corp:443']);
  });

  it('names a missing required variable', () => {
    expect(() => loadConfig({ KEYCLOAK_URL: 'http://127.0.0.1:8080' })).toThrow('KEYCLOAK_CLIENT_SECRET');
  });
});
