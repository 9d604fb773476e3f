// Proves the test harness talks to a real Keycloak with the project's realm import.
import { describe, expect, inject, it } from 'vitest';
import {
  claims,
  clientCredentialsToken,
  keycloakUrl,
  realm,
  serviceClient,
  userToken,
} from './support/keycloak.js';

describe(`Keycloak from ${inject('keycloakSource')}`, () => {
  it("gives the service's own client a token that lists clients through the admin API", async () => {
    const answer = await clientCredentialsToken(serviceClient.clientId, serviceClient.secret);
    expect(answer.status).toBe(200);
    const token = answer.body.access_token as string;
    expect(claims(token).azp).toBe('api-clients-service');

    const response = await fetch(`${keycloakUrl()}/admin/realms/${realm}/clients?first=0&max=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const clientIds = ((await response.json()) as { clientId: string }[]).map((c) => c.clientId);
    expect(clientIds).toEqual(expect.arrayContaining(['api-clients-service', 'realm-management']));
  });

  it('refuses the service client with a wrong secret', async () => {
    const answer = await clientCredentialsToken(serviceClient.clientId, 'not-the-secret');
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('unauthorized_client');
  });

  it("gives a demo user a token carrying account_id, roles and the service's audience", async () => {
    const alice = claims(await userToken('alice'));
    expect(alice.account_id).toEqual(['acme']);
    expect((alice.realm_access as { roles: string[] }).roles).toEqual(
      expect.arrayContaining(['api-clients-admin', 'api-clients-viewer']),
    );
    expect([alice.aud].flat()).toContain('api-clients-service');

    const mira = claims(await userToken('mira'));
    expect([...(mira.account_id as string[])].sort()).toEqual(['acme', 'globex']);
    expect((mira.realm_access as { roles: string[] }).roles).not.toContain('api-clients-admin');

    const paula = claims(await userToken('paula'));
    expect((paula.realm_access as { roles: string[] }).roles).toContain('platform-admin');
  });
});
