// A client's activity (SPEC §8): its usage as a bar chart of tokens and refusals per day, and its
// history; and the account's history (deleted clients and limit changes included). Both from the
// service's activity routes, which read Keycloak's events.
import { useEffect, useState } from 'preact/hooks';
import type { ApiClientsClient, components } from '../../clients/typescript/src/index.js';
import { toRefusal } from './api.js';
import { routeTo } from './routes.js';
import { formatDate } from './ui.js';

type HistoryRow = components['schemas']['HistoryRow'];
type Usage = components['schemas']['Usage'];
interface HistoryPage {
  items: HistoryRow[];
  hasMore: boolean;
  truncated: boolean;
}

const PAGE = 20;
const actionText: Record<HistoryRow['action'], string> = {
  created: 'Created',
  updated: 'Updated',
  'secret-regenerated': 'Secret regenerated',
  'grace-period-ended': 'Grace period ended',
  invalidated: 'Keys and secrets invalidated',
  'credential-switched': 'Credential switched',
  deleted: 'Deleted',
  'limit-changed': 'Limit changed',
};

/** The usage as a picture: two bars a day (tokens, refusals), described for screen readers. */
export function UsageChart({ usage }: { usage: Usage }) {
  const days = usage.days;
  const top = Math.max(1, ...days.map((day) => Math.max(day.tokensIssued, day.failedAuthentications)));
  const width = 640;
  const height = 180;
  const left = 40;
  const bottom = 24;
  const slot = (width - left) / Math.max(1, days.length);
  const bar = Math.max(2, slot / 2 - 2);
  const y = (value: number) => height - bottom - (value / top) * (height - bottom - 10);
  const tokens = days.reduce((sum, day) => sum + day.tokensIssued, 0);
  const refusals = days.reduce((sum, day) => sum + day.failedAuthentications, 0);
  const busiest = days.reduce(
    (best, day) => (day.tokensIssued > (best?.tokensIssued ?? -1) ? day : best),
    days[0],
  );
  const description =
    `${tokens} tokens issued and ${refusals} refused authentications over ${days.length} days` +
    (busiest && busiest.tokensIssued > 0
      ? `; most tokens on ${busiest.date} (${busiest.tokensIssued})`
      : '') +
    (usage.truncated ? `; only the newest ${usage.countedUpTo} events were counted` : '') +
    '.';
  return (
    <figure class="usage-chart">
      <svg
        role="img"
        aria-labelledby="usage-title usage-desc"
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        preserveAspectRatio="xMinYMin meet"
      >
        <title id="usage-title">Tokens issued and refused authentications per day</title>
        <desc id="usage-desc">{description}</desc>
        <line x1={left} x2={width} y1={height - bottom} y2={height - bottom} class="axis" />
        <text x={left - 6} y={y(top) + 4} text-anchor="end" class="tick">
          {top}
        </text>
        <text x={left - 6} y={height - bottom} text-anchor="end" class="tick">
          0
        </text>
        {days.map((day, index) => {
          const x = left + index * slot + 2;
          return (
            <g key={day.date}>
              <rect
                class="bar-tokens"
                x={x}
                y={y(day.tokensIssued)}
                width={bar}
                height={height - bottom - y(day.tokensIssued)}
              >
                <title>{`${day.date}: ${day.tokensIssued} tokens issued`}</title>
              </rect>
              <rect
                class="bar-refusals"
                x={x + bar + 1}
                y={y(day.failedAuthentications)}
                width={bar}
                height={height - bottom - y(day.failedAuthentications)}
              >
                <title>{`${day.date}: ${day.failedAuthentications} refused`}</title>
              </rect>
              {(index === 0 || index === days.length - 1 || days.length <= 14) && (
                <text x={x + bar} y={height - 6} text-anchor="middle" class="tick">
                  {day.date.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <span class="legend legend-tokens">Tokens issued</span>{' '}
        <span class="legend legend-refusals">Refused</span>
        {usage.truncated && usage.countedFrom && (
          <span class="help">
            {' '}
            Counted from {formatDate(usage.countedFrom)}: earlier days are incomplete.
          </span>
        )}
      </figcaption>
    </figure>
  );
}

function HistoryList({ rows, showClient }: { rows: HistoryRow[]; showClient: boolean }) {
  if (rows.length === 0) return <p>No changes recorded.</p>;
  return (
    <ol class="history">
      {rows.map((row) => (
        <li key={`${row.at}-${row.action}-${row.clientId}`}>
          <time dateTime={row.at}>{formatDate(row.at)}</time> <strong>{actionText[row.action]}</strong>
          {showClient && row.clientId && <> · {row.clientId}</>} by {row.actor.username ?? row.actor.sub}
          {row.changed.length > 0 && <span class="changed"> ({row.changed.join(', ')})</span>}
        </li>
      ))}
    </ol>
  );
}

function usePaged(load: (first: number) => Promise<{ data?: unknown; error?: unknown; response: Response }>) {
  const [first, setFirst] = useState(0);
  const [page, setPage] = useState<HistoryPage | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let current = true;
    load(first).then(({ data, error: problem, response }) => {
      if (!current) return;
      if (data) setPage(data as HistoryPage);
      else setError(toRefusal(response.status, problem).detail);
    });
    return () => {
      current = false;
    };
  }, [first]);
  return { first, setFirst, page, error };
}

function Pager({
  first,
  setFirst,
  page,
}: {
  first: number;
  setFirst: (n: number) => void;
  page?: HistoryPage;
}) {
  return (
    <div class="pager">
      <button type="button" disabled={first === 0} onClick={() => setFirst(Math.max(0, first - PAGE))}>
        Newer
      </button>
      <button type="button" disabled={!page?.hasMore} onClick={() => setFirst(first + PAGE)}>
        Older
      </button>
      {page?.truncated && <span class="help">Older changes may exist beyond what was read.</span>}
    </div>
  );
}

export function ClientActivity({
  api,
  account,
  clientId,
}: {
  api: ApiClientsClient;
  account: string;
  clientId: string;
}) {
  const [days, setDays] = useState(14);
  const [usage, setUsage] = useState<Usage | undefined>();
  const [usageError, setUsageError] = useState<string | undefined>();
  const path = { accountId: account, clientId };
  useEffect(() => {
    let current = true;
    api
      .GET('/v1/accounts/{accountId}/api-clients/{clientId}/usage', { params: { path, query: { days } } })
      .then(({ data, error: problem, response }) => {
        if (!current) return;
        if (data) setUsage(data);
        else setUsageError(toRefusal(response.status, problem).detail);
      });
    return () => {
      current = false;
    };
  }, [api, account, clientId, days]);
  const history = usePaged((first) =>
    api.GET('/v1/accounts/{accountId}/api-clients/{clientId}/history', {
      params: { path, query: { first, max: PAGE } },
    }),
  );

  return (
    <section aria-labelledby="activity-title">
      <p>
        <a href={routeTo.edit(account, clientId)}>‹ {clientId}</a>
      </p>
      <h1 id="activity-title">Activity of {clientId}</h1>
      <section aria-labelledby="usage-heading">
        <div class="title-row">
          <h2 id="usage-heading">Usage</h2>
          <label>
            Days{' '}
            <select value={String(days)} onChange={(event) => setDays(Number(event.currentTarget.value))}>
              {[7, 14, 30, 90].map((n) => (
                <option key={n} value={String(n)}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        </div>
        {usageError && <p role="alert">{usageError}</p>}
        {usage && <UsageChart usage={usage} />}
        {usage && (
          <p id="last-failure">
            Last refused authentication:{' '}
            {usage.lastFailure
              ? `${formatDate(usage.lastFailure.at)}, ${usage.lastFailure.reason}${usage.lastFailure.ipAddress ? ` from ${usage.lastFailure.ipAddress}` : ''}`
              : 'none'}
          </p>
        )}
      </section>
      <section aria-labelledby="history-heading">
        <h2 id="history-heading">History</h2>
        {history.error && <p role="alert">{history.error}</p>}
        {history.page && <HistoryList rows={history.page.items} showClient={false} />}
        <Pager first={history.first} setFirst={history.setFirst} page={history.page} />
      </section>
    </section>
  );
}

export function AccountHistory({ api, account }: { api: ApiClientsClient; account: string }) {
  const history = usePaged((first) =>
    api.GET('/v1/accounts/{accountId}/history', {
      params: { path: { accountId: account }, query: { first, max: PAGE } },
    }),
  );
  return (
    <section aria-labelledby="account-history-title">
      <p>
        <a href={routeTo.list(account)}>‹ API Clients</a>
      </p>
      <h1 id="account-history-title">History of {account}</h1>
      <p class="intro">Every change to the account's API clients, deleted ones included, and to its limit.</p>
      {history.error && <p role="alert">{history.error}</p>}
      {history.page && <HistoryList rows={history.page.items} showClient={true} />}
      <Pager first={history.first} setFirst={history.setFirst} page={history.page} />
    </section>
  );
}
