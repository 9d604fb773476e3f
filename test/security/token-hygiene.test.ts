// SPEC §2 fixed settings: a token issued through a managed client carries no role outside the
// client's own, and no offline access. Proved with Keycloak's own example access token (admin
// "evaluate scopes"), for users × managed WebApp clients, and for a client made before the rule,
// which its next update brings in line.
import { randomBytes } from 'node:crypto';
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsUrl, clientUrl, startTestApp, type TestApp } from '../support/app.js';
import {
  createKeycloakClient,
  deleteKeycloakClient,
  keycloakClient,
  userToken,
} from '../support/keycloak.js';
import { exampleAccessToken, masterAdmin } from './realm-admin.js';

const PRIVILEGED = ['platform-admin', 'api-clients-admin', 'api-clients-viewer'];
/** A platform admin, another account's admin, the account's own admin. */
const USERS = ['paula', 'gina', 'alice'] as const;

let service: TestApp;
let kc: KeycloakAdminClient;
const created: string[] = [];
const suffix = randomBytes(3).toString('hex');
/** The catalogue scope each WebApp client below is created with. */
const catalogueScopeOf = new Map<string, string>();

const realmRoles = (token: Record<string, unknown>): string[] =>
  ((token.realm_access as { roles?: string[] } | undefined)?.roles ?? []).slice().sort();
const scopeOf = (token: Record<string, unknown>): string[] => String(token.scope ?? '').split(' ');

async function userId(username: string): Promise<string> {
  const [user] = await kc.users.find({ username, exact: true });
  if (!user?.id) throw new Error(`no user ${username}`);
  return user.id;
}

async function exampleTokens(clientId: string) {
  const client = await keycloakClient(clientId);
  if (!client) throw new Error(`no client ${clientId}`);
  return Promise.all(
    USERS.map(async (username) => ({
      username,
      token: await exampleAccessToken(kc, client.id, await userId(username)),
    })),
  );
}

beforeAll(async () => {
  service = await startTestApp();
  kc = await masterAdmin();
  const alice = await userToken('alice');
  const paula = await userToken('paula');
  const webApp = {
    capabilityTypes: ['WebApp'],
    rootUrl: 'https://portal.example.com',
    redirectUris: ['/callback'],
    webOrigins: ['+'],
    scopes: ['datahub-api'],
  };
  for (const [token, clientId, body] of [
    [alice, `acme_portal-${suffix}`, webApp],
    [
      paula,
      `acme_both-${suffix}`,
      { ...webApp, capabilityTypes: ['WebApp', 'Script'], scopes: ['push-data'] },
    ],
  ] as const) {
    const answer = await service.call('POST', clientsUrl('acme'), { token, body: { clientId, ...body } });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    created.push(clientId);
    catalogueScopeOf.set(clientId, body.scopes[0]);
  }
});

afterAll(async () => {
  const paula = await userToken('paula');
  for (const clientId of created) await service.call('DELETE', clientUrl('acme', clientId), { token: paula });
  await service?.close();
});

describe('a managed client as Keycloak holds it', () => {
  it('has fullScopeAllowed false and no offline_access scope', async () => {
    for (const clientId of created) {
      const rep = await keycloakClient(clientId);
      expect(rep?.fullScopeAllowed).toBe(false);
      expect(rep?.defaultClientScopes).not.toContain('offline_access');
      expect(rep?.optionalClientScopes).not.toContain('offline_access');
      // the realm's other optional scopes are still there
      expect(rep?.optionalClientScopes).toContain('phone');
    }
  });
});

describe("Keycloak's example access token through a managed WebApp client", () => {
  it.each(USERS.map((u, i) => [u, i]))(
    'for %s carries no privileged role and no offline access',
    async (_u, i) => {
      for (const clientId of created) {
        const { username, token } = (await exampleTokens(clientId))[i as number] as {
          username: string;
          token: Record<string, unknown>;
        };
        expect(token.azp, `${username} through ${clientId}`).toBe(clientId);
        for (const role of [...PRIVILEGED, 'offline_access']) expect(realmRoles(token)).not.toContain(role);
        expect(scopeOf(token)).not.toContain('offline_access');
        // the token is not simply empty: it names its user, and the client's catalogue scope is
        // there with its audience. (No account_id claim: the realm maps it only in the
        // api-clients-caller scope, which managed clients do not get.)
        expect(token.preferred_username, `${username} through ${clientId}`).toBe(username);
        expect(scopeOf(token)).toEqual(
          expect.arrayContaining(['openid', catalogueScopeOf.get(clientId) as string]),
        );
        expect([token.aud].flat()).toContain('insights-api');
      }
    },
  );
});

describe('a managed client made before token hygiene', () => {
  it('carries the privileged roles until its next update, then none', async () => {
    const clientId = `acme_legacy-${suffix}`;
    const id = await createKeycloakClient({
      clientId,
      protocol: 'openid-connect',
      publicClient: false,
      standardFlowEnabled: true,
      redirectUris: ['https://legacy.example.com/cb'],
      fullScopeAllowed: true,
      attributes: { 'api-clients.account': 'acme', 'api-clients.created-at': new Date().toISOString() },
    });
    created.push(clientId);
    try {
      const before = await exampleTokens(clientId);
      const paulaBefore = before.find((t) => t.username === 'paula')?.token ?? {};
      // what the rule prevents, seen on the old settings
      expect(realmRoles(paulaBefore)).toEqual(expect.arrayContaining(PRIVILEGED));
      expect(scopeOf(paulaBefore)).toContain('offline_access');

      const answer = await service.call('PATCH', clientUrl('acme', clientId), {
        token: await userToken('alice'),
        body: { displayName: 'Legacy portal' },
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const rep = await keycloakClient(clientId);
      expect(rep?.fullScopeAllowed).toBe(false);
      expect(rep?.optionalClientScopes).not.toContain('offline_access');
      for (const { username, token } of await exampleTokens(clientId)) {
        for (const role of [...PRIVILEGED, 'offline_access']) {
          expect(realmRoles(token), `${username}: ${role}`).not.toContain(role);
        }
        expect(scopeOf(token)).not.toContain('offline_access');
      }
    } catch (error) {
      await deleteKeycloakClient(id);
      throw error;
    }
  });
});
