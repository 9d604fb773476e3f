// SPEC §4 "Catalogue changes": a scope taken out of the catalogue stays visible on the clients
// that have it, and an update may remove it; none can add it. The scope is a real client scope
// of the realm, taken out of the catalogue in Keycloak (its api-clients.catalogue attribute);
// each step uses a fresh service, whose catalogue cache is empty.
import { randomBytes } from 'node:crypto';
import type KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masterAdmin } from '../../security/realm-admin.js';
import { clientsUrl, clientUrl, startTestApp, type TestApp, uniqueAccount } from '../../support/app.js';
import { scriptClient } from '../../support/fixtures.js';
import { keycloakClient, userToken } from '../../support/keycloak.js';

type Client = { clientId: string; scopes: string[] };
type Problem = { type: string; errors?: { pointer: string; reason: string }[] };

const retiring = `retiring-${randomBytes(3).toString('hex')}`;
let kc: KeycloakAdminClient;
let scopeId: string;
let token: string;
let before: TestApp;
let after: TestApp;
const account = uniqueAccount('cat');
const holder = `${account}_holder`;
const other = `${account}_other`;

const markInCatalogue = (inCatalogue: boolean) =>
  kc.clientScopes.update(
    { id: scopeId },
    {
      name: retiring,
      protocol: 'openid-connect',
      description: 'A scope on its way out of the catalogue',
      attributes: { 'api-clients.catalogue': String(inCatalogue), 'include.in.token.scope': 'true' },
    },
  );

beforeAll(async () => {
  kc = await masterAdmin();
  token = await userToken('paula');
  await kc.clientScopes.create({ name: retiring, protocol: 'openid-connect' });
  scopeId = (await kc.clientScopes.findOneByName({ name: retiring }))?.id as string;
  await markInCatalogue(true);

  before = await startTestApp();
  const created = await before.call('POST', clientsUrl(account), {
    token,
    body: scriptClient(holder, { scopes: ['datahub-api', retiring] }),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect((await before.call('POST', clientsUrl(account), { token, body: scriptClient(other) })).status).toBe(
    201,
  );

  await markInCatalogue(false);
  after = await startTestApp();
});

afterAll(async () => {
  await before?.close();
  await after?.close();
  for (const clientId of [holder, other]) {
    const found = await keycloakClient(clientId);
    if (found) await kc.clients.del({ id: found.id });
  }
  if (scopeId) await kc.clientScopes.del({ id: scopeId });
});

describe('a scope taken out of the catalogue', () => {
  it('is no longer offered, but still shows on the client that has it', async () => {
    const offered = await after.call<{ items: { name: string }[] }>('GET', '/v1/scopes', { token });
    expect(offered.body.items.map((scope) => scope.name)).toContain('datahub-api');
    expect(offered.body.items.map((scope) => scope.name)).not.toContain(retiring);
    const read = await after.call<Client>('GET', clientUrl(account, holder), { token });
    expect(read.body.scopes).toEqual(['datahub-api', retiring]);
    const listed = await after.call<{ items: Client[] }>('GET', clientsUrl(account), { token });
    expect(listed.body.items.find((item) => item.clientId === holder)?.scopes).toEqual([
      'datahub-api',
      retiring,
    ]);
  });

  it('stays through an update of other fields and a PUT that keeps it', async () => {
    const patched = await after.call<Client>('PATCH', clientUrl(account, holder), {
      token,
      body: { displayName: 'Still here' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.scopes).toEqual(['datahub-api', retiring]);
    const kept = await after.call<Client>('PATCH', clientUrl(account, holder), {
      token,
      body: { scopes: [retiring, 'datahub-api'] },
    });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect((await keycloakClient(holder))?.defaultClientScopes).toContain(retiring);
  });

  it('cannot be added to another client, nor given on create', async () => {
    const added = await after.call<Problem>('PATCH', clientUrl(account, other), {
      token,
      body: { scopes: [retiring] },
    });
    expect(added.status).toBe(400);
    expect(added.body.errors?.map((e) => e.pointer)).toEqual(['/scopes/0']);
    expect((await keycloakClient(other))?.defaultClientScopes).not.toContain(retiring);

    const created = await after.call<Problem>('POST', clientsUrl(account), {
      token,
      body: scriptClient(`${account}_new`, { scopes: [retiring] }),
    });
    expect(created.status).toBe(400);
    expect(await keycloakClient(`${account}_new`)).toBeUndefined();
  });

  it('can be removed, and is gone from Keycloak and from the client', async () => {
    const removed = await after.call<Client>('PATCH', clientUrl(account, holder), {
      token,
      body: { scopes: ['datahub-api'] },
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.scopes).toEqual(['datahub-api']);
    expect((await keycloakClient(holder))?.defaultClientScopes).not.toContain(retiring);
    // and once removed, it cannot come back
    const back = await after.call<Problem>('PATCH', clientUrl(account, holder), {
      token,
      body: { scopes: ['datahub-api', retiring] },
    });
    expect(back.status).toBe(400);
  });
});
