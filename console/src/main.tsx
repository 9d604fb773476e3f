// The reference console (SPEC §8): Account > Settings > API Clients, on the service's own API.
// Routes live in the hash (#/acme, #/acme/new, #/acme/clients/acme_x), so the service serves one
// page and a route never reaches it.
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AccountHistory, ClientActivity } from './activity.js';
import { createApi } from './api.js';
import {
  accountsOf,
  type ConsoleConfig,
  completeLogin,
  fresh,
  login,
  logout,
  rolesOf,
  type Session,
} from './auth.js';
import { ClientForm } from './form.js';
import { ClientList } from './list.js';
import { type Announce, routeTo } from './routes.js';

type Route =
  | { account?: string; view: 'list' }
  | { account: string; view: 'new' }
  | { account: string; view: 'history' }
  | { account: string; view: 'activity'; clientId: string }
  | {
      account: string;
      view: 'edit';
      clientId: string;
    };

function parseRoute(hash: string): Route {
  const [account, view, clientId, sub] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (!account) return { view: 'list' };
  if (view === 'new') return { account, view: 'new' };
  if (view === 'history') return { account, view: 'history' };
  if (view === 'clients' && clientId && sub === 'activity') return { account, view: 'activity', clientId };
  if (view === 'clients' && clientId) return { account, view: 'edit', clientId };
  return { account, view: 'list' };
}

function useHashRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

function LoginPage({ config, error }: { config: ConsoleConfig; error?: string | undefined }) {
  return (
    <main id="main" class="login">
      <h1>API Clients</h1>
      <p>
        Manage the OAuth 2.0 / OpenID Connect clients of your account: browser apps and scripts that call the
        platform's APIs.
      </p>
      {error && (
        <p class="form-errors" role="alert">
          {error}
        </p>
      )}
      <button type="button" class="primary" onClick={() => void login(config, window.location.hash)}>
        Log in
      </button>
    </main>
  );
}

function AccountPicker({ accounts, current }: { accounts: string[]; current: string | undefined }) {
  const [typed, setTyped] = useState(current ?? '');
  if (accounts.length > 1) {
    return (
      <div class="account">
        <label for="account">Account</label>
        <select
          id="account"
          value={current}
          onChange={(event) => {
            window.location.hash = routeTo.list((event.currentTarget as HTMLSelectElement).value);
          }}
        >
          {accounts.map((account) => (
            <option key={account} value={account}>
              {account}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (accounts.length === 1) return <p class="account">Account: {accounts[0]}</p>;
  // a platform admin's token names no account: any account can be opened
  return (
    <form
      class="account"
      onSubmit={(event) => {
        event.preventDefault();
        if (typed.trim()) window.location.hash = routeTo.list(typed.trim());
      }}
    >
      <label for="account">Account</label>
      <input id="account" value={typed} onInput={(event) => setTyped(event.currentTarget.value)} />
      <button type="submit">Open</button>
    </form>
  );
}

function Console({ config, initial }: { config: ConsoleConfig; initial: Session }) {
  const session = useRef(initial);
  const [message, setMessage] = useState('');
  const route = useHashRoute();
  const api = useMemo(
    () =>
      createApi(async () => {
        session.current = await fresh(config, session.current);
        return session.current.accessToken;
      }),
    [config],
  );
  const accounts = accountsOf(config, initial);
  const roles = rolesOf(config, initial);
  const canWrite = roles.includes('api-clients-admin') || roles.includes('platform-admin');
  const account = route.account ?? accounts[0];
  const user = String(initial.claims.preferred_username ?? initial.claims.sub ?? '');
  // a result belongs to the view it happened in
  const view = window.location.hash;
  useEffect(() => setMessage(''), [view]);
  const announce: Announce = (text) => {
    // a repeated message is announced again
    setMessage('');
    setTimeout(() => setMessage(text), 50);
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="crumbs">
          Account <span aria-hidden="true">›</span> Settings <span aria-hidden="true">›</span> API Clients
        </p>
        <div class="who">
          <AccountPicker accounts={accounts} current={account} />
          <span class="user">{user}</span>
          <button type="button" onClick={() => logout(config, session.current)}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {!account ? (
          <p>Choose an account to manage its API clients.</p>
        ) : route.view === 'list' ? (
          <ClientList key={account} api={api} account={account} canWrite={canWrite} announce={announce} />
        ) : route.view === 'history' ? (
          <AccountHistory key={account} api={api} account={account} />
        ) : route.view === 'activity' ? (
          <ClientActivity
            key={`${account}/${route.clientId}`}
            api={api}
            account={account}
            clientId={route.clientId}
          />
        ) : (
          <ClientForm
            key={`${account}/${route.view === 'edit' ? route.clientId : ''}`}
            api={api}
            config={config}
            account={account}
            clientId={route.view === 'edit' ? route.clientId : undefined}
            canWrite={canWrite}
            announce={announce}
          />
        )}
      </main>
      <div class="status" role="status" aria-live="polite">
        {message}
      </div>
    </>
  );
}

function App({ config }: { config: ConsoleConfig }) {
  const [state, setState] = useState<{ session?: Session; error?: string; loading: boolean }>({
    loading: true,
  });
  useEffect(() => {
    completeLogin(config).then(
      (done) => {
        if (done?.returnTo) window.location.hash = done.returnTo;
        setState({ session: done?.session, loading: false });
      },
      (error: Error) => setState({ error: `The login failed: ${error.message}`, loading: false }),
    );
  }, [config]);
  if (state.loading) return <p class="loading">Loading…</p>;
  if (!state.session) return <LoginPage config={config} error={state.error} />;
  return <Console config={config} initial={state.session} />;
}

const root = document.getElementById('app') as HTMLElement;
fetch('config.json')
  .then((response) => {
    if (!response.ok) throw new Error(`config.json answered ${response.status}`);
    return response.json() as Promise<ConsoleConfig>;
  })
  .then(
    (config) => render(<App config={config} />, root),
    (error: Error) => render(<p role="alert">The console cannot start: {error.message}</p>, root),
  );
