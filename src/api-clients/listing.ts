// Listing an account: one indexed query for its clients, search and sort in the service, then
// the roles of the page's rows only (Keycloak keeps them in each client's role scope; the
// directory keeps each briefly, so a warm list is the account query alone).
import { mapLimited } from '../lib/map-limited.js';
import type { CatalogueReader } from './access/catalogue.js';
import type { Directory } from './access/directory.js';
import type { LastUsed } from './activity/last-used.js';
import type { Limits } from './consistency/limits.js';
import { fromClientRepresentation, rolesOf, toSummary } from './resource/mapping.js';
import type { ApiClientSummary } from './resource/schema.js';

export interface ListOptions {
  search?: string;
  first?: number;
  max?: number;
}

/** How many role reads of one page run at once: Keycloak calls are not free. */
const READ_CONCURRENCY = 4;

export async function listAccount(
  deps: {
    directory: Directory;
    limits: Limits;
    catalogues: CatalogueReader;
    lastUsed: LastUsed;
  },
  accountId: string,
  query: ListOptions,
) {
  const [reps, max, catalogue] = await Promise.all([
    deps.directory.accountClients(accountId),
    deps.limits.maxFor(accountId),
    deps.catalogues.load(),
  ]);
  const needle = query.search?.toLowerCase();
  const rows = reps
    .map((rep) => ({ row: toSummary(fromClientRepresentation(rep, catalogue.names)), id: rep.id as string }))
    .filter(
      ({ row }) =>
        !needle ||
        row.clientId.toLowerCase().includes(needle) ||
        (row.displayName ?? '').toLowerCase().includes(needle),
    )
    .sort((a, b) => a.row.clientId.localeCompare(b.row.clientId));
  const first = query.first ?? 0;
  const page = rows.slice(first, first + (query.max ?? 20));
  const [roles, lastUsed] = await Promise.all([
    mapLimited(page, READ_CONCURRENCY, async ({ id }) => rolesOf(await deps.directory.roleScope(id))),
    deps.lastUsed.ofMany(page.map(({ row }) => row.clientId)),
  ]);
  const items: ApiClientSummary[] = page.map(({ row }, index) => ({
    ...row,
    roles: roles[index] ?? [],
    lastUsedAt: lastUsed.get(row.clientId) ?? null,
  }));
  return { items, total: rows.length, limit: { max, used: reps.length } };
}
