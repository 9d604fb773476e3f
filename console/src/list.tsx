// The list of an account's API clients: search, pages, checkboxes with a bulk delete, and
// "Add API client" (disabled, with the reason, when the account's limit is reached).

import { useEffect, useState } from 'preact/hooks';
import type { ApiClientsClient } from '../../clients/typescript/src/index.js';
import { type ApiClientSummary, toRefusal } from './api.js';
import { type Announce, routeTo } from './routes.js';
import { ConfirmDialog, formatDate } from './ui.js';

interface Page {
  items: ApiClientSummary[];
  total: number;
  limit: { max: number; used: number };
}

type BulkResult = { clientId: string; status: string };

const PAGE_SIZES = [10, 20, 50];
const resultText: Record<string, string> = {
  deleted: 'deleted',
  'not-found': 'not found (already deleted?)',
  failed: 'failed; try again',
};

export function ClientList(props: {
  api: ApiClientsClient;
  account: string;
  canWrite: boolean;
  announce: Announce;
}) {
  const { api, account, canWrite, announce } = props;
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [first, setFirst] = useState(0);
  const [max, setMax] = useState(10);
  const [page, setPage] = useState<Page | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [results, setResults] = useState<BulkResult[]>([]);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let current = true;
    api
      .GET('/v1/accounts/{accountId}/api-clients', {
        params: { path: { accountId: account }, query: { search: query || undefined, first, max } },
      })
      .then(({ data, error: problem, response }) => {
        if (!current) return;
        if (data) {
          setPage(data as Page);
          setError(undefined);
        } else setError(toRefusal(response.status, problem).detail);
      });
    return () => {
      current = false;
    };
  }, [api, account, query, first, max, reload]);

  const items = page?.items ?? [];
  const atLimit = page ? page.limit.used >= page.limit.max : false;
  const allOnPage = items.length > 0 && items.every((item) => selected.has(item.clientId));
  const toggle = (clientId: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(clientId);
    else next.delete(clientId);
    setSelected(next);
  };

  async function bulkDelete() {
    setBusy(true);
    const clientIds = [...selected];
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/v1/accounts/{accountId}/api-clients/bulk-delete', {
      params: { path: { accountId: account } },
      body: { clientIds },
    });
    setBusy(false);
    setConfirming(false);
    if (!data) {
      announce(`Delete failed: ${toRefusal(response.status, problem).detail}`);
      return;
    }
    setResults(data.results);
    setSelected(new Set(data.results.filter((r) => r.status === 'failed').map((r) => r.clientId)));
    const deleted = data.results.filter((r) => r.status === 'deleted').length;
    announce(`${deleted} of ${clientIds.length} API clients deleted.`);
    setReload((n) => n + 1);
  }

  const shownFrom = page && page.total > 0 ? first + 1 : 0;
  const shownTo = page ? Math.min(first + max, page.total) : 0;

  return (
    <section aria-labelledby="list-title">
      <div class="title-row">
        <h1 id="list-title">API Clients</h1>
        <div class="limit">
          {page && (
            <p id="limit-usage">
              {page.limit.used} / {page.limit.max} API clients used
            </p>
          )}
          <a class="button" href={routeTo.history(account)}>
            Account history
          </a>
          {canWrite &&
            (atLimit ? (
              <>
                <button type="button" class="primary" disabled aria-describedby="limit-reason">
                  Add API client
                </button>
                <p class="help" id="limit-reason">
                  The account has reached its limit of {page?.limit.max} API clients. Delete one to add
                  another.
                </p>
              </>
            ) : (
              <a class="button primary" href={routeTo.create(account)}>
                Add API client
              </a>
            ))}
        </div>
      </div>
      <p class="intro">
        API clients let your applications and scripts call the platform's APIs: a browser app logs users in, a
        script gets tokens with its own secret.
      </p>

      <div class="toolbar">
        <search>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              setFirst(0);
              setQuery(search.trim());
            }}
          >
            <label for="search">Search</label>
            <input
              id="search"
              type="search"
              placeholder="Client ID or Display Name"
              value={search}
              onInput={(event) => setSearch(event.currentTarget.value)}
            />
            <button type="submit">Search</button>
          </form>
        </search>
        {canWrite && (
          <button
            type="button"
            class="danger"
            disabled={selected.size === 0}
            onClick={() => setConfirming(true)}
          >
            Delete selected ({selected.size})
          </button>
        )}
      </div>

      {error && (
        <p class="form-errors" role="alert">
          {error}
        </p>
      )}

      {results.length > 0 && (
        <section class="results" aria-labelledby="results-title">
          <h2 id="results-title">Delete results</h2>
          <ul>
            {results.map((result) => (
              <li key={result.clientId} class={`result-${result.status}`}>
                <code>{result.clientId}</code>: {resultText[result.status] ?? result.status}
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setResults([])}>
            Dismiss
          </button>
        </section>
      )}

      <div class="table-wrap">
        <table>
          <caption class="visually-hidden">API clients of account {account}</caption>
          <thead>
            <tr>
              <th scope="col" class="select">
                <input
                  type="checkbox"
                  aria-label="Select all on this page"
                  checked={allOnPage}
                  disabled={items.length === 0 || !canWrite}
                  onChange={(event) => {
                    const next = new Set(selected);
                    for (const item of items) {
                      if (event.currentTarget.checked) next.add(item.clientId);
                      else next.delete(item.clientId);
                    }
                    setSelected(next);
                  }}
                />
              </th>
              <th scope="col">Client ID</th>
              <th scope="col">Display Name</th>
              <th scope="col">Description</th>
              <th scope="col">Capability Types</th>
              <th scope="col">Scopes</th>
              <th scope="col">Roles</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.clientId}>
                <td class="select">
                  <input
                    type="checkbox"
                    aria-label={`Select ${item.clientId}`}
                    checked={selected.has(item.clientId)}
                    disabled={!canWrite}
                    onChange={(event) => toggle(item.clientId, event.currentTarget.checked)}
                  />
                </td>
                <td data-label="Client ID">
                  <a href={routeTo.edit(account, item.clientId)}>{item.clientId}</a>
                  <ExpiryFlag credential={item.credential} />
                  {!item.enabled && <span class="badge">Disabled</span>}
                </td>
                <td data-label="Display Name">{item.displayName || item.clientId}</td>
                <td data-label="Description">{item.description ?? ''}</td>
                <td data-label="Capability Types">{item.capabilityTypes.join(', ')}</td>
                <td data-label="Scopes">{item.scopes.join(', ') || 'None'}</td>
                <td data-label="Roles">{item.roles.join(', ') || 'None'}</td>
                <td data-label="Last used">{formatDate(item.lastUsedAt)}</td>
              </tr>
            ))}
            {page && items.length === 0 && (
              <tr>
                <td colSpan={8}>
                  {query ? `No API client matches “${query}”.` : 'This account has no API clients yet.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>

      <nav class="pages" aria-label="Pages">
        <p>
          {shownFrom}–{shownTo} of {page?.total ?? 0}
        </p>
        <label for="page-size">Rows per page</label>
        <select
          id="page-size"
          value={String(max)}
          onChange={(event) => {
            setMax(Number(event.currentTarget.value));
            setFirst(0);
          }}
        >
          {PAGE_SIZES.map((size) => (
            <option key={size} value={String(size)}>
              {size}
            </option>
          ))}
        </select>
        <button type="button" disabled={first === 0} onClick={() => setFirst(Math.max(0, first - max))}>
          Previous page
        </button>
        <button
          type="button"
          disabled={!page || first + max >= page.total}
          onClick={() => setFirst(first + max)}
        >
          Next page
        </button>
      </nav>

      <ConfirmDialog
        id="bulk-delete"
        title={`Delete ${selected.size} API client${selected.size === 1 ? '' : 's'}?`}
        open={confirming}
        confirmLabel="Delete"
        danger
        busy={busy}
        onConfirm={() => void bulkDelete()}
        onClose={() => setConfirming(false)}
      >
        <p>
          Applications using these clients can no longer get tokens, and their secrets stop working. This
          cannot be undone.
        </p>
        <ul>
          {[...selected].map((clientId) => (
            <li key={clientId}>
              <code>{clientId}</code>
            </li>
          ))}
        </ul>
      </ConfirmDialog>
    </section>
  );
}

/** How far ahead a secret's expiry is flagged in the list (SPEC §8). */
export const EXPIRY_WARNING_DAYS = 14;

/** "Secret expired" or "Secret expires <date>" for a secret that expired or expires within 14 days. */
function ExpiryFlag({ credential }: { credential: { type: string; expiresAt: string | null } }) {
  if (credential.type !== 'secret' || !credential.expiresAt) return null;
  const at = Date.parse(credential.expiresAt);
  if (at > Date.now() + EXPIRY_WARNING_DAYS * 86_400_000) return null;
  return at <= Date.now() ? (
    <span class="flag expired">Secret expired</span>
  ) : (
    <span class="flag expiring">Secret expires {formatDate(credential.expiresAt)}</span>
  );
}
