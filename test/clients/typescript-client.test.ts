// The typed client UI backends use (clients/typescript): generated from the committed document,
// and working against the real service and Keycloak: create, get, regenerate, delete through it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiClientsClient, createApiClientsClient } from '../../clients/typescript/src/index.js';
import { startTestApp, type TestApp, uniqueAccount } from '../support/app.js';
import { clientCredentialsToken, keycloakClient, userToken } from '../support/keycloak.js';

const clientDir = fileURLToPath(new URL('../../clients/typescript/', import.meta.url));

describe('the typed TypeScript client', () => {
  it('is generated from the committed openapi.json (run `npm run openapi` after changing routes)', () => {
    const out = mkdtempSync(join(tmpdir(), 'client-'));
    try {
      execFileSync(
        join(clientDir, 'node_modules/.bin/openapi-typescript'),
        ['../../openapi/openapi.json', '--output', join(out, 'schema.d.ts')],
        { cwd: clientDir, stdio: 'pipe' },
      );
      expect(readFileSync(join(clientDir, 'src/schema.d.ts'), 'utf8')).toBe(
        readFileSync(join(out, 'schema.d.ts'), 'utf8'),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('pins the same openapi-fetch as the package it is published with', () => {
    const manifest = JSON.parse(readFileSync(join(clientDir, 'package.json'), 'utf8'));
    const installed = JSON.parse(
      readFileSync(join(clientDir, 'node_modules/openapi-fetch/package.json'), 'utf8'),
    );
    expect(installed.version).toBe(manifest.dependencies['openapi-fetch']);
  });

  describe('against the service and Keycloak', () => {
    let t: TestApp;
    let api: ApiClientsClient;
    const accountId = uniqueAccount('typed');
    const clientId = `${accountId}_typed-client`;

    beforeAll(async () => {
      t = await startTestApp();
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      api = createApiClientsClient(base, () => userToken('paula'));
    });
    afterAll(() => t?.close());

    it('creates, reads, regenerates and deletes a client', async () => {
      const path = { accountId, clientId };
      const created = await api.POST('/v1/accounts/{accountId}/api-clients', {
        params: { path: { accountId } },
        body: { clientId, displayName: 'Typed', capabilityTypes: ['Script'], scopes: ['datahub-api'] },
      });
      expect(created.response.status).toBe(201);
      expect(created.response.headers.get('location')).toBe(
        `/v1/accounts/${accountId}/api-clients/${clientId}`,
      );
      const firstSecret = created.data?.secret as string;
      expect((await clientCredentialsToken(clientId, firstSecret)).body.access_token).toBeDefined();

      const read = await api.GET('/v1/accounts/{accountId}/api-clients/{clientId}', { params: { path } });
      expect(read.data).toMatchObject({ clientId, accountId, displayName: 'Typed', scopes: ['datahub-api'] });
      expect(read.response.headers.get('etag')).toBe(created.response.headers.get('etag'));

      const regenerated = await api.POST('/v1/accounts/{accountId}/api-clients/{clientId}/secret', {
        params: { path },
      });
      const secondSecret = regenerated.data?.secret as string;
      expect(secondSecret).not.toBe(firstSecret);
      expect((await clientCredentialsToken(clientId, firstSecret)).body.error).toBe('unauthorized_client');
      expect((await clientCredentialsToken(clientId, secondSecret)).body.access_token).toBeDefined();

      const deleted = await api.DELETE('/v1/accounts/{accountId}/api-clients/{clientId}', {
        params: { path },
      });
      expect(deleted.response.status).toBe(204);
      expect(await keycloakClient(clientId)).toBeUndefined();

      const gone = await api.GET('/v1/accounts/{accountId}/api-clients/{clientId}', { params: { path } });
      expect(gone.response.status).toBe(404);
      expect(gone.error?.type).toBe('urn:api-clients:problem:not-found');
    });
  });
});
