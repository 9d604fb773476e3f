// Talking to Keycloak from the benchmark: tokens, the admin REST API of the realm, and the client
// representation the service itself would send on create.
// The service's own mapping: seeded and directly created clients carry exactly its attributes.

import { CATALOGUE_ATTRIBUTE } from '../../src/api-clients/access/catalogue.js';
import { ACCOUNT_ATTRIBUTE } from '../../src/api-clients/access/ownership.js';
import {
  type ClientRepresentation,
  DEFAULT_FIELDS,
  toClientRepresentation,
} from '../../src/api-clients/resource/mapping.js';
import type { ApiClientFields } from '../../src/api-clients/resource/schema.js';

export const realm = 'platform';
export const serviceClient = { clientId: 'api-clients-service', secret: 'api-clients-service-dev-secret' };
export { ACCOUNT_ATTRIBUTE };

const REQUEST_TIMEOUT_MS = 30_000;

export function withTimeout(signal: AbortSignal, ms = REQUEST_TIMEOUT_MS): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}

/**
 * One login, reused until shortly before it expires (the realm's tokens live 5 minutes), and one
 * login at a time however many workers ask: a burst of password-grant logins of one user trips
 * Keycloak's brute-force protection (user_temporarily_disabled).
 */
export class TokenSource {
  #token: { value: string; until: number } | undefined;
  #pending: Promise<string> | undefined;
  constructor(
    readonly keycloakUrl: string,
    readonly form: Record<string, string>,
    readonly signal: AbortSignal,
  ) {}

  /** A token that stays valid for at least `minValidityMs` more. */
  async get(minValidityMs = 60_000): Promise<string> {
    if (this.#token && this.#token.until - Date.now() > minValidityMs) return this.#token.value;
    this.#pending ??= this.#login().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #login(): Promise<string> {
    const started = Date.now();
    const response = await fetch(`${this.keycloakUrl}/realms/${realm}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(this.form),
      signal: withTimeout(this.signal),
    });
    const body = (await response.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (!response.ok || !body.access_token)
      throw new Error(
        `token request for ${this.form.client_id} failed: ${response.status} ${body.error ?? ''}`,
      );
    this.#token = { value: body.access_token, until: started + (body.expires_in ?? 60) * 1000 };
    return body.access_token;
  }

  invalidate(): void {
    this.#token = undefined;
  }
}

export const serviceAccountTokens = (keycloakUrl: string, signal: AbortSignal) =>
  new TokenSource(
    keycloakUrl,
    {
      grant_type: 'client_credentials',
      client_id: serviceClient.clientId,
      client_secret: serviceClient.secret,
    },
    signal,
  );

/** The demo platform admin `paula`, through the realm's public CLI client. */
export const platformAdminTokens = (keycloakUrl: string, signal: AbortSignal) =>
  new TokenSource(
    keycloakUrl,
    { grant_type: 'password', client_id: 'api-clients-cli', username: 'paula', password: 'paula' },
    signal,
  );

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** The realm's admin REST API, as the service's own client (the same token the service uses). */
export class AdminApi {
  readonly base: string;
  constructor(
    readonly keycloakUrl: string,
    readonly tokens: TokenSource,
    readonly signal: AbortSignal,
  ) {
    this.base = `${keycloakUrl}/admin/realms/${realm}`;
  }

  async request(method: string, path: string, body?: unknown): Promise<Answer> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await this.tokens.get()}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: withTimeout(this.signal),
      });
      const text = await response.text();
      if (response.status === 401 && attempt === 0) {
        this.tokens.invalidate();
        continue;
      }
      return { status: response.status, headers: response.headers, text };
    }
  }

  async json<T>(path: string): Promise<T> {
    const answer = await this.request('GET', path);
    if (answer.status !== 200) throw new Error(`GET ${path}: ${answer.status} ${answer.text.slice(0, 200)}`);
    return JSON.parse(answer.text) as T;
  }

  /**
   * Every client of the realm, counted by bisection on `first` with pages of one client: a page of
   * 1,000 full representations took Keycloak 28 s on a realm of 20,000, one of a single client a
   * few ms wherever it starts.
   */
  async countClients(): Promise<number> {
    const exists = async (index: number) =>
      (await this.json<unknown[]>(`/clients?first=${index}&max=1`)).length > 0;
    if (!(await exists(0))) return 0;
    let low = 0; // a client at this index exists
    let high = 1024; // and none from here on, once found
    while (await exists(high)) {
      low = high;
      high *= 2;
    }
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await exists(middle)) low = middle;
      else high = middle;
    }
    return high;
  }

  /** Creates a client; answers its internal id (from Location). */
  async createClient(rep: ClientRepresentation): Promise<string> {
    const answer = await this.request('POST', '/clients', rep);
    if (answer.status !== 201)
      throw new Error(`POST /clients ${rep.clientId}: ${answer.status} ${answer.text.slice(0, 200)}`);
    const id = answer.headers.get('location')?.split('/').pop();
    if (!id) throw new Error('POST /clients answered no Location');
    return id;
  }

  /** Deletes by internal id; a client already gone counts as deleted. */
  async deleteClient(id: string): Promise<void> {
    const answer = await this.request('DELETE', `/clients/${encodeURIComponent(id)}`);
    if (answer.status !== 204 && answer.status !== 404)
      throw new Error(`DELETE /clients/${id}: ${answer.status} ${answer.text.slice(0, 200)}`);
  }

  async findIdByClientId(clientId: string): Promise<string | undefined> {
    const found = await this.json<{ id: string; clientId: string }[]>(
      `/clients?clientId=${encodeURIComponent(clientId)}&first=0&max=1`,
    );
    return found.find((client) => client.clientId === clientId)?.id;
  }

  /** The clients of one account, by the service's searchable account attribute. */
  async accountClients(accountId: string): Promise<{ id: string; clientId: string }[]> {
    return this.json(`/clients?q=${encodeURIComponent(`${ACCOUNT_ATTRIBUTE}:${accountId}`)}`);
  }

  /** What the service puts in `defaultClientScopes` / `optionalClientScopes` on create. */
  async createScopeLists(chosen: string[]): Promise<{ defaults: string[]; optional: string[] }> {
    const [scopes, defaults, optional] = await Promise.all([
      this.json<{ name: string; attributes?: Record<string, string> }[]>('/client-scopes'),
      this.json<{ name: string }[]>('/default-default-client-scopes'),
      this.json<{ name: string }[]>('/default-optional-client-scopes'),
    ]);
    const catalogue = new Set(
      scopes.filter((s) => s.attributes?.[CATALOGUE_ATTRIBUTE] === 'true').map((s) => s.name),
    );
    return {
      defaults: [...defaults.map((s) => s.name).filter((n) => !catalogue.has(n)), ...chosen],
      optional: optional.map((s) => s.name).filter((n) => !catalogue.has(n)),
    };
  }
}

/**
 * The representation the service sends to Keycloak on create for these fields (see
 * src/api-clients/service.ts create): its mapping, the scope lists when given, and no rootUrl
 * when there is none.
 */
export function serviceLikeRepresentation(
  clientId: string,
  accountId: string,
  fields: Partial<ApiClientFields> & Pick<ApiClientFields, 'capabilityTypes'>,
  scopeLists?: { defaults: string[]; optional: string[] },
): ClientRepresentation {
  const all = { ...DEFAULT_FIELDS, ...fields };
  const rep: ClientRepresentation = {
    ...toClientRepresentation(clientId, accountId, new Date().toISOString(), all),
    ...(scopeLists
      ? { defaultClientScopes: scopeLists.defaults, optionalClientScopes: scopeLists.optional }
      : {}),
  };
  if (all.rootUrl === null) delete rep.rootUrl;
  return rep;
}
