// The reference console in a real browser: Debian's chromium driven by playwright-core, against
// the service listening on a free port and the run's real Keycloak. A demo user logs in through
// Keycloak's own login page; what the page claims (a secret copied, a regenerate with a grace
// period, a delete) is checked at Keycloak's token endpoint. Screenshots go to .cache/console-screenshots/
// (docs/console/ with CONSOLE_SCREENSHOTS=docs/console).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../scripts/lib/keycloak-local.js';
import { buildApp } from '../../src/app.js';
import { masterAdmin } from '../security/realm-admin.js';
import { assertionToken, newKeyPair } from '../support/assertions.js';
import { clientCredentialsToken, testConfig, userToken } from '../support/keycloak.js';
import { federatedToken, startTestIssuer, type TestIssuer } from '../support/test-issuer.js';

const CONSOLE_CLIENT = 'api-clients-console';
const ACCOUNT = 'acme';
// the pictures of docs/console.md are rewritten on demand (CONSOLE_SCREENSHOTS=docs/console); a plain run keeps
// its screenshots out of the tree
const screenshots = join(
  projectRoot,
  process.env.CONSOLE_SCREENSHOTS ?? join('.cache', 'console-screenshots'),
);

/** Debian's chromium (.ci/run installs it), or CHROMIUM_PATH. */
function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
    (path) => path && existsSync(path),
  );
  if (!found)
    throw new Error(
      "no chromium: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH",
    );
  return found;
}

let app: FastifyInstance;
let base: string;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let addedRedirect: string;
/** A workload token issuer on loopback, which the service lets Keycloak call (KEYCLOAK_CALLS_ALLOWED_ORIGINS). */
let issuer: TestIssuer;

/** The service's own API as alice (admin of acme), for setting up and looking behind the page. */
async function asAlice(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}/v1/accounts/${ACCOUNT}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await userToken('alice')}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function accountClientIds(): Promise<string[]> {
  const answer = (await (await asAlice('GET', '/api-clients?max=100')).json()) as {
    items: { clientId: string }[];
  };
  return answer.items.map((item) => item.clientId);
}

async function setLimit(maxApiClients: number | null): Promise<void> {
  const response = await fetch(`${base}/v1/accounts/${ACCOUNT}/limits`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await userToken('paula')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ maxApiClients }),
  });
  expect(response.status).toBe(200);
}

// playwright-core has no assertions of its own: wait for the state, then vitest's expect (polled)
const visible = (locator: Locator) => locator.waitFor({ state: 'visible' });
const hidden = (locator: Locator) => locator.waitFor({ state: 'hidden' });
const poll = { timeout: 20_000 };
const textOf = (locator: Locator) => expect.poll(async () => (await locator.textContent()) ?? '', poll);
const attributeOf = (locator: Locator, name: string) => expect.poll(() => locator.getAttribute(name), poll);
/** The accessible description: the text of the elements aria-describedby names. */
const descriptionOf = (locator: Locator) =>
  expect.poll(
    () =>
      locator.evaluate((element) =>
        (element.getAttribute('aria-describedby') ?? '')
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent ?? '')
          .join(' '),
      ),
    poll,
  );

/** The whole page; a modal dialog in the viewport only (the backdrop covers the viewport, not the page). */
const shot = (name: string, fullPage = true) =>
  page.screenshot({ path: join(screenshots, `${name}.png`), fullPage });

/** Every form control of the page has an accessible name (a label, aria-label or aria-labelledby). */
async function unnamedControls(): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea, button')]
      .filter((element) => {
        const control = element as HTMLInputElement;
        if (control.type === 'hidden') return false;
        const named =
          (control.labels?.length ?? 0) > 0 ||
          control.getAttribute('aria-label') ||
          control.getAttribute('aria-labelledby') ||
          (element.tagName === 'BUTTON' && element.textContent?.trim());
        return !named;
      })
      .map((element) => element.outerHTML.slice(0, 120)),
  );
}

const noHorizontalScroll = () =>
  page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  issuer = await startTestIssuer();
  const config = testConfig();
  app = await buildApp({ ...config, urlSafety: { ...config.urlSafety, allowedOrigins: [issuer.url] } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
  // Keycloak sends the browser back to this port's console only when the client lists it
  const kc = await masterAdmin();
  const [client] = await kc.clients.find({ clientId: CONSOLE_CLIENT });
  if (!client?.id) throw new Error(`no client ${CONSOLE_CLIENT}`);
  addedRedirect = `${base}/console/`;
  await kc.clients.update(
    { id: client.id },
    { ...client, redirectUris: [...(client.redirectUris ?? []), addedRedirect] },
  );
  // acme starts empty, at the default limit
  const leftovers = await accountClientIds();
  if (leftovers.length > 0) await asAlice('POST', '/api-clients/bulk-delete', { clientIds: leftovers });
  await setLimit(null);

  browser = await chromium.launch({ executablePath: chromiumPath() });
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  const leftovers = base ? await accountClientIds().catch(() => []) : [];
  if (leftovers.length > 0) await asAlice('POST', '/api-clients/bulk-delete', { clientIds: leftovers });
  if (addedRedirect) {
    const kc = await masterAdmin();
    const [client] = await kc.clients.find({ clientId: CONSOLE_CLIENT });
    if (client?.id) {
      const redirectUris = (client.redirectUris ?? []).filter((uri) => uri !== addedRedirect);
      await kc.clients.update({ id: client.id }, { ...client, redirectUris });
    }
  }
  await app?.close();
  await issuer?.close();
});

describe('the console in a browser', () => {
  const clientId = `${ACCOUNT}_console-export`;
  let firstSecret = '';

  it('logs in through Keycloak (authorization code with PKCE) as a demo user', async () => {
    await page.goto(`${base}/console`);
    await shot('login');
    await page.getByRole('button', { name: 'Log in' }).click();
    // Keycloak's own login page
    await page.getByLabel('Username', { exact: true }).fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('alice');
    await page.getByRole('button', { name: 'Sign In' }).click();
    await visible(page.getByRole('heading', { name: 'API Clients', level: 1 }));
    expect(new URL(page.url()).search).toBe(''); // the code is gone from the address bar
    await visible(page.getByText('Account: acme'));
    await visible(page.getByText('This account has no API clients yet.'));
  });

  it('creates a Script client; the copied secret gets a token from Keycloak', async () => {
    await page.getByRole('link', { name: 'Add API client' }).click();
    await visible(page.getByRole('heading', { name: 'Add API client' }));
    await textOf(page.locator('#clientId-prefix')).toBe('acme_');
    await page.getByLabel('Client ID').fill('console-export');
    await page.getByLabel('Display Name').fill('Nightly export');
    await page.getByLabel('Description').fill('Exports the dashboards every night');
    expect(await page.getByRole('checkbox', { name: 'Script' }).isChecked()).toBe(true);
    await page.getByRole('checkbox', { name: 'datahub-api' }).check();
    await page.getByRole('checkbox', { name: 'insights-viewer' }).check();
    // alice holds insights-viewer only: the console does not offer a role she cannot give (SPEC §4)
    expect(await page.getByRole('checkbox', { name: 'insights-editor' }).isDisabled()).toBe(true);
    expect(await unnamedControls()).toEqual([]);
    await shot('create-form');
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await visible(page.getByRole('heading', { name: 'Nightly export' }));
    expect(await page.getByLabel('Client ID').inputValue()).toBe(clientId);
    await attributeOf(page.getByLabel('Client ID'), 'readonly').toBe('');
    // the secret itself (the credential type's radio button is labelled "Client secret" too)
    const secretField = page.locator('input#secret');
    await attributeOf(secretField, 'type').toBe('password'); // masked
    await page.getByRole('button', { name: 'Copy' }).click();
    await textOf(page.getByRole('status')).toBe('Secret copied to the clipboard.');
    firstSecret = await page.evaluate(() => navigator.clipboard.readText());
    expect(firstSecret.length).toBeGreaterThan(20);
    await page.getByRole('button', { name: 'Show' }).click();
    await attributeOf(secretField, 'type').toBe('text');
    expect(await secretField.inputValue()).toBe(firstSecret);
    await page.getByRole('button', { name: 'Hide' }).click();
    await attributeOf(secretField, 'type').toBe('password');

    const token = await clientCredentialsToken(clientId, firstSecret);
    expect(token.status).toBe(200);
    expect(token.body.scope).toContain('datahub-api');
  });

  it('regenerates with a grace period: both secrets get tokens, the page says until when', async () => {
    await page.getByRole('button', { name: 'Regenerate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate the secret?' });
    await visible(dialog);
    await textOf(dialog).toContain('stop getting tokens at once');
    await dialog.getByLabel('Grace period').selectOption({ label: '1 hour' });
    await textOf(dialog).toContain('when the grace period ends');
    await shot('regenerate-dialog', false);
    await dialog.getByRole('button', { name: 'Regenerate' }).click();
    await hidden(dialog);
    await textOf(page.getByRole('status')).toContain('The previous secret works until');
    await textOf(page.locator('#grace-status')).toContain('The previous secret is still accepted until');

    await page.getByRole('button', { name: 'Copy' }).click();
    const newSecret = await page.evaluate(() => navigator.clipboard.readText());
    expect(newSecret).not.toBe(firstSecret);
    expect((await clientCredentialsToken(clientId, newSecret)).status).toBe(200);
    expect((await clientCredentialsToken(clientId, firstSecret)).status).toBe(200); // in its grace period
    await shot('credential');
  });

  it("opens the client's activity: a chart of tokens and refusals per day, and alice's changes", async () => {
    expect((await clientCredentialsToken(clientId, 'not-the-secret')).status).toBe(401);
    await page.getByRole('link', { name: 'Activity' }).click();
    await visible(page.getByRole('heading', { name: `Activity of ${clientId}`, level: 1 }));
    // a picture with a title and a description, not a table: 1 token with the first secret, 2 after the regenerate
    const chart = page.getByRole('img', { name: /Tokens issued and refused authentications per day/ });
    await visible(chart);
    await textOf(page.locator('#usage-desc')).toContain(
      '3 tokens issued and 1 refused authentications over 14 days',
    );
    expect(await page.locator('svg[role="img"] rect.bar-tokens').count()).toBe(14);
    await textOf(page.locator('#last-failure')).toContain('invalid_client_credentials');
    const history = page.locator('ol.history');
    await textOf(history).toContain('Secret regenerated');
    await textOf(history).toContain('Created');
    expect(await history.locator('li').first().textContent()).toContain('by alice');
    expect(await unnamedControls()).toEqual([]);
    await shot('activity');

    // the account's history, from the list
    await page.getByRole('link', { name: `‹ ${clientId}` }).click();
    await page.getByRole('link', { name: '‹ API Clients' }).click();
    await page.getByRole('link', { name: 'Account history' }).click();
    await visible(page.getByRole('heading', { name: 'History of acme', level: 1 }));
    await textOf(page.locator('ol.history')).toContain(`Created · ${clientId} by alice`);
    await page.getByRole('link', { name: '‹ API Clients' }).click();
    await page.getByRole('link', { name: clientId }).click();
    await visible(page.getByRole('heading', { name: 'Nightly export' }));
  });

  it("shows the API's errors next to the fields they name, and changes nothing", async () => {
    await page.getByRole('checkbox', { name: 'WebApp' }).check();
    await page.getByLabel('Valid redirect URIs').fill('https://app.example.com/callback#token');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const field = page.getByLabel('Valid redirect URIs');
    await attributeOf(field, 'aria-invalid').toBe('true');
    await textOf(page.locator('#redirectUris-error')).toContain('item 1:');
    // the reason is the field's accessible description, read out with it
    await descriptionOf(field).toMatch(/item 1:/);
    await visible(page.locator('.form-errors'));
    await shot('field-errors');
    const stored = (await (await asAlice('GET', `/api-clients/${clientId}`)).json()) as Record<
      string,
      unknown
    >;
    expect(stored.capabilityTypes).toEqual(['Script']);
    expect(stored.redirectUris).toEqual([]);
  });

  it('bulk deletes the checked clients and reports each one; Keycloak no longer knows them', async () => {
    const other = `${ACCOUNT}_console-sync`;
    expect(
      (await asAlice('POST', '/api-clients', { clientId: other, capabilityTypes: ['Script'] })).status,
    ).toBe(201);
    await page.getByRole('link', { name: '‹ API Clients' }).click();
    const row = page.getByRole('row', { name: new RegExp(clientId) });
    await textOf(row).toContain('Nightly export');
    await textOf(row).toContain('datahub-api');
    // no display name: the Client ID stands in
    await textOf(
      page.getByRole('row', { name: new RegExp(other) }).locator('td[data-label="Display Name"]'),
    ).toBe(other);
    await visible(page.getByText('2 / 5 API clients used'));
    expect(await unnamedControls()).toEqual([]);
    await shot('list');
    // search: clientId or display name contains
    await page.getByLabel('Search', { exact: true }).fill('nightly');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await textOf(page.getByRole('navigation', { name: 'Pages' })).toContain('1–1 of 1');
    expect(await page.getByRole('row', { name: new RegExp(other) }).count()).toBe(0);
    await page.getByLabel('Search', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await textOf(page.getByRole('navigation', { name: 'Pages' })).toContain('1–2 of 2');

    await page.getByRole('checkbox', { name: `Select ${clientId}` }).check();
    await page.getByRole('checkbox', { name: `Select ${other}` }).check();
    await page.getByRole('button', { name: 'Delete selected (2)' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete 2 API clients?' });
    await textOf(dialog).toContain('can no longer get tokens');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    const results = page.getByRole('region', { name: 'Delete results' });
    await textOf(results).toContain(`${clientId}: deleted`);
    await textOf(results).toContain(`${other}: deleted`);
    await textOf(page.getByRole('status')).toBe('2 of 2 API clients deleted.');
    await shot('bulk-delete');
    expect(await accountClientIds()).toEqual([]);
    expect((await clientCredentialsToken(clientId, firstSecret)).status).toBe(401);
  });

  it('creates a Key pair client from a pasted JWKS: keys listed by kid and thumbprint, no secret; its assertion gets a token', async () => {
    const keyPairId = `${ACCOUNT}_console-keys`;
    const pair = await newKeyPair('console-2026', 'ES256');
    await page.getByRole('link', { name: 'Add API client' }).click();
    await visible(page.getByRole('heading', { name: 'Add API client' }));
    await page.getByLabel('Client ID').fill('console-keys');
    await page.getByLabel('Display Name').fill('Signed job');
    await page.getByRole('radio', { name: 'Key pair' }).check();
    await page.getByLabel('Public keys (JWKS)', { exact: true }).fill(JSON.stringify({ keys: [pair.jwk] }));
    expect(await unnamedControls()).toEqual([]);
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await visible(page.getByRole('heading', { name: 'Signed job' }));
    const keys = page.getByRole('table', { name: 'Registered keys' });
    await textOf(keys).toContain('console-2026');
    const stored = (await (await asAlice('GET', `/api-clients/${keyPairId}`)).json()) as {
      credential: { type: string; keys: { thumbprint: string }[] };
    };
    expect(stored.credential.type).toBe('private-key-jwt');
    await textOf(keys).toContain(stored.credential.keys[0]?.thumbprint ?? 'no thumbprint');
    // no secret anywhere on the page
    expect(await page.locator('input#secret').count()).toBe(0);
    await shot('key-pair');
    expect((await assertionToken(keyPairId, pair)).status).toBe(200);

    // a private key pasted by mistake is refused next to the field
    await page
      .getByLabel('Public keys (JWKS)', { exact: true })
      .fill(JSON.stringify({ keys: [{ ...pair.jwk, d: 'c2VjcmV0' }] }));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await textOf(page.locator('#jwks-error')).toContain('private key material');
    expect((await assertionToken(keyPairId, pair)).status).toBe(200);
    await asAlice('DELETE', `/api-clients/${keyPairId}`);
    await page.getByRole('link', { name: '‹ API Clients' }).click();
  });

  it('creates a Workload identity client (an issuer offered as an example, a subject): its workload token gets a token', async () => {
    const federatedId = `${ACCOUNT}_console-workload`;
    await page.getByRole('link', { name: 'Add API client' }).click();
    await visible(page.getByRole('heading', { name: 'Add API client' }));
    await page.getByLabel('Client ID').fill('console-workload');
    await page.getByLabel('Display Name').fill('Cluster job');
    await page.getByRole('radio', { name: 'Workload identity' }).check();
    await page.getByRole('button', { name: 'GitHub Actions' }).click();
    expect(await page.getByLabel('Issuer', { exact: true }).inputValue()).toBe(
      'https://token.actions.githubusercontent.com',
    );
    expect(await page.getByLabel('Subject', { exact: true }).inputValue()).toMatch(/^repo:/);
    await page.getByRole('button', { name: 'Kubernetes (EKS)' }).click();
    expect(await page.getByLabel('Issuer', { exact: true }).inputValue()).toMatch(/^https:\/\/oidc\.eks\./);
    expect(await page.getByLabel('Subject', { exact: true }).inputValue()).toMatch(/^system:serviceaccount:/);
    await shot('workload-identity');
    // this test's own issuer stands in for a cluster's
    await page.getByLabel('Issuer', { exact: true }).fill(issuer.url);
    await page.getByLabel('Subject', { exact: true }).fill('system:serviceaccount:ci:console');
    expect(await unnamedControls()).toEqual([]);
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await visible(page.getByRole('heading', { name: 'Cluster job' }));
    const stored = (await (await asAlice('GET', `/api-clients/${federatedId}`)).json()) as {
      credential: Record<string, unknown>;
    };
    expect(stored.credential).toEqual({
      type: 'federated',
      issuer: issuer.url,
      subject: 'system:serviceaccount:ci:console',
    });
    expect(await page.locator('input#secret').count()).toBe(0);
    const answer = await federatedToken(await issuer.token('system:serviceaccount:ci:console'), federatedId);
    expect(answer.status).toBe(200);

    // an issuer inside the platform's network is refused next to the field
    await page.getByLabel('Issuer', { exact: true }).fill('https://10.0.0.1/issuer');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await textOf(page.locator('#issuer-error')).toContain('private range');
    await asAlice('DELETE', `/api-clients/${federatedId}`);
    await page.getByRole('link', { name: '‹ API Clients' }).click();
  });

  it('at the limit, Add API client is disabled and says why', async () => {
    await setLimit(0);
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).click(); // Keycloak's session: no form this time
    const add = page.getByRole('button', { name: 'Add API client' });
    expect(await add.isDisabled()).toBe(true);
    await descriptionOf(add).toMatch(/reached its limit of 0 API clients/);
    await visible(page.getByText('0 / 0 API clients used'));
    await setLimit(null);
  });

  it('works in a narrow window (375 px): no horizontal scroll', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const created = await asAlice('POST', '/api-clients', {
      clientId: `${ACCOUNT}_a-rather-long-client-id-for-a-narrow-window`,
      displayName: 'Narrow',
      capabilityTypes: ['WebApp'],
      scopes: ['datahub-api', 'push-data'],
      redirectUris: ['https://app.example.com/callback'],
    });
    expect(created.status).toBe(201);
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).click();
    await visible(page.getByRole('link', { name: /a-rather-long-client-id/ }));
    expect(await noHorizontalScroll()).toBe(true);
    await shot('narrow-list');
    await page.getByRole('link', { name: /a-rather-long-client-id/ }).click();
    await visible(page.getByRole('heading', { name: 'Narrow' }));
    expect(await noHorizontalScroll()).toBe(true);
    expect(await unnamedControls()).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('offers only the roles alice may give: one she lacks but the client has can be unticked, not ticked again', async () => {
    const granted = `${ACCOUNT}_console-granted`;
    const created = await fetch(`${base}/v1/accounts/${ACCOUNT}/api-clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await userToken('paula')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: granted, capabilityTypes: ['Script'], roles: ['insights-editor'] }),
    });
    expect(created.status).toBe(201);
    try {
      await page.reload(); // the list as it is now
      await page.getByRole('button', { name: 'Log in' }).click(); // Keycloak's session: no form this time
      await visible(page.getByRole('button', { name: 'Log out' }));
      await page.evaluate((route) => {
        window.location.hash = route;
      }, `#/${ACCOUNT}/clients/${granted}`);
      const editor = page.getByRole('checkbox', { name: 'insights-editor' });
      await visible(editor);
      await expect.poll(() => editor.isChecked(), poll).toBe(true);
      expect(await editor.isDisabled()).toBe(false);
      await descriptionOf(editor).toContain('You do not hold this role');
      await editor.uncheck();
      expect(await editor.isDisabled()).toBe(true);
      expect(await page.getByRole('checkbox', { name: 'insights-viewer' }).isDisabled()).toBe(false);
    } finally {
      await asAlice('DELETE', `/api-clients/${granted}`);
      await page.evaluate((list) => {
        window.location.hash = list;
      }, `#/${ACCOUNT}`);
    }
  });

  it('logs out: Keycloak ends the session, and the next login asks for the password again', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await visible(page.getByRole('button', { name: 'Log in' }));
    await page.getByRole('button', { name: 'Log in' }).click();
    await visible(page.getByLabel('Username', { exact: true }));
  });
});
