// The service's API through the project's own typed client (clients/typescript: openapi-fetch
// over the types generated from openapi/openapi.json), on the page's own origin.
import {
  type ApiClientsClient,
  type components,
  createApiClientsClient,
} from '../../clients/typescript/src/index.js';

export type { ApiClient, ApiClientWithSecret, Problem } from '../../clients/typescript/src/index.js';
export type ApiClientSummary = components['schemas']['ApiClientSummary'];
export type FieldError = NonNullable<components['schemas']['Problem']['errors']>[number];
/** A catalogue entry; `grantable` (roles only): whether the signed-in caller may give it to a client. */
export type CatalogueEntry = { name: string; description: string; grantable?: boolean };

export function createApi(token: () => Promise<string>): ApiClientsClient {
  return createApiClientsClient(window.location.origin, token);
}

/** A refusal as the page shows it: the problem's detail, and its failing fields by top-level name. */
export interface Refusal {
  status: number;
  type: string;
  detail: string;
  /** by field, e.g. `redirectUris` -> ['item 1: must be ...'], `backchannelLogout.url` -> [...] */
  fields: Record<string, string[]>;
}

export function toRefusal(status: number, problem: unknown): Refusal {
  const body = (problem ?? {}) as Partial<components['schemas']['Problem']>;
  const fields: Record<string, string[]> = {};
  for (const error of body.errors ?? []) {
    const parts = error.pointer.split('/').slice(1);
    const index = parts.find((part) => /^\d+$/.test(part));
    const name = parts.filter((part) => !/^\d+$/.test(part)).join('.');
    const where = index !== undefined ? `item ${Number(index) + 1}: ` : '';
    const field = error.in === 'body' ? name : `${error.in}:${name}`;
    fields[field] = [...(fields[field] ?? []), `${where}${error.reason}`];
  }
  return {
    status,
    type: String(body.type ?? '').replace('urn:api-clients:problem:', ''),
    detail: body.detail ?? body.title ?? `The service answered ${status}`,
    fields,
  };
}
