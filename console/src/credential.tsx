// The credential of a client: its secret masked, show/hide, copy, Regenerate (with an optional
// grace period), end the grace period, invalidate. The secret is shown only where the API shows
// it (create, regenerate, invalidate, reveal) and is kept in this component's state only.

import { useState } from 'preact/hooks';
import type { ApiClientsClient } from '../../clients/typescript/src/index.js';
import { type ApiClient, toRefusal } from './api.js';
import type { ConsoleConfig } from './auth.js';
import type { Announce } from './routes.js';
import { ConfirmDialog, formatDate } from './ui.js';

const GRACE_CHOICES = [
  { seconds: 0, label: 'None: the current secret stops working at once' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 7 * 86_400, label: '7 days' },
];

type Pending = 'regenerate' | 'invalidate' | 'end-grace' | undefined;

export function Credential(props: {
  api: ApiClientsClient;
  config: ConsoleConfig;
  account: string;
  client: ApiClient;
  initialSecret: string | undefined;
  onSecretSeen: () => void;
  onChanged: (changes: Partial<ApiClient>) => void;
  canWrite: boolean;
  announce: Announce;
}) {
  const { api, config, account, client, initialSecret, onSecretSeen, onChanged, canWrite, announce } = props;
  const [secret, setSecret] = useState<string | undefined>(() => {
    if (initialSecret) onSecretSeen();
    return initialSecret;
  });
  const [shown, setShown] = useState(false);
  const [pending, setPending] = useState<Pending>();
  const [grace, setGrace] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const path = { accountId: account, clientId: client.clientId };
  const canReveal = canWrite && config.secretRevealEnabled;
  const graceChoices = GRACE_CHOICES.filter((choice) => choice.seconds <= config.maxGracePeriodSeconds);

  async function loadSecret(): Promise<string | undefined> {
    if (secret) return secret;
    const {
      data,
      error: problem,
      response,
    } = await api.GET('/v1/accounts/{accountId}/api-clients/{clientId}/secret', { params: { path } });
    if (!data) {
      setError(toRefusal(response.status, problem).detail);
      return undefined;
    }
    setSecret(data.secret);
    return data.secret;
  }

  async function toggleShown() {
    if (!shown && !(await loadSecret())) return;
    setShown(!shown);
  }

  async function copy() {
    const value = await loadSecret();
    if (!value) return;
    try {
      await navigator.clipboard.writeText(value);
      announce('Secret copied to the clipboard.');
    } catch {
      setError('The browser did not allow copying: show the secret and copy it by hand.');
    }
  }

  async function confirm() {
    setBusy(true);
    setError(undefined);
    if (pending === 'regenerate') {
      const {
        data,
        error: problem,
        response,
      } = await api.POST('/v1/accounts/{accountId}/api-clients/{clientId}/secret', {
        params: { path },
        body: { gracePeriodSeconds: grace },
      });
      if (data) {
        setSecret(data.secret);
        onChanged({
          previousSecretExpiresAt: data.previousSecretExpiresAt,
          credential: { type: 'secret', expiresAt: data.expiresAt },
        });
        announce(
          data.previousSecretExpiresAt
            ? `New secret generated. The previous secret works until ${formatDate(data.previousSecretExpiresAt)}.`
            : 'New secret generated. The previous secret no longer works.',
        );
      } else setError(toRefusal(response.status, problem).detail);
    } else if (pending === 'invalidate') {
      const {
        data,
        error: problem,
        response,
      } = await api.POST('/v1/accounts/{accountId}/api-clients/{clientId}/invalidate', { params: { path } });
      if (data) {
        setSecret(data.secret);
        onChanged({ previousSecretExpiresAt: null });
        announce('Secret and tokens invalidated. A new secret was generated.');
      } else setError(toRefusal(response.status, problem).detail);
    } else if (pending === 'end-grace') {
      const { error: problem, response } = await api.DELETE(
        '/v1/accounts/{accountId}/api-clients/{clientId}/secret/previous',
        { params: { path } },
      );
      if (response.status === 204) {
        onChanged({ previousSecretExpiresAt: null });
        announce('The previous secret no longer works.');
      } else setError(toRefusal(response.status, problem).detail);
    }
    setBusy(false);
    setPending(undefined);
  }

  const masked = '•'.repeat(24);
  return (
    <fieldset class="credential">
      <legend>Credential</legend>
      <div class="field">
        <label for="secret">Client secret</label>
        <p class="help" id="secret-help">
          {secret
            ? 'Applications send it with the Client ID to get tokens. Keep it secret.'
            : config.secretRevealEnabled
              ? 'Masked. Show or copy it when an application needs it.'
              : 'Shown only when it is created, regenerated or invalidated.'}
        </p>
        <div class="secret-row">
          {shown && secret ? (
            <input
              id="secret"
              type="text"
              readOnly
              value={secret}
              autoComplete="off"
              aria-describedby="secret-help"
            />
          ) : (
            <input
              id="secret"
              type="password"
              readOnly
              value={secret ?? masked}
              autoComplete="off"
              aria-describedby="secret-help"
            />
          )}
          <button
            type="button"
            aria-pressed={shown}
            disabled={!secret && !canReveal}
            onClick={() => void toggleShown()}
          >
            {shown ? 'Hide' : 'Show'}
          </button>
          <button type="button" disabled={!secret && !canReveal} onClick={() => void copy()}>
            Copy
          </button>
        </div>
      </div>
      {client.credential.expiresAt && (
        <p class="grace" id="expiry-status">
          {Date.parse(client.credential.expiresAt) <= Date.now()
            ? `This secret expired on ${formatDate(client.credential.expiresAt)}: regenerate it to get a new one.`
            : `This secret expires on ${formatDate(client.credential.expiresAt)}.`}
        </p>
      )}
      {client.previousSecretExpiresAt && (
        <p class="grace" id="grace-status">
          The previous secret is still accepted until {formatDate(client.previousSecretExpiresAt)}.
        </p>
      )}
      {error && (
        <p class="form-errors" role="alert">
          {error}
        </p>
      )}
      {canWrite && (
        <div class="actions">
          <button type="button" onClick={() => setPending('regenerate')}>
            Regenerate
          </button>
          {client.previousSecretExpiresAt && (
            <button type="button" onClick={() => setPending('end-grace')}>
              End grace period now
            </button>
          )}
          <button type="button" class="danger" onClick={() => setPending('invalidate')}>
            Invalidate
          </button>
        </div>
      )}

      <ConfirmDialog
        id="regenerate"
        title="Regenerate the secret?"
        open={pending === 'regenerate'}
        confirmLabel="Regenerate"
        busy={busy}
        onConfirm={() => void confirm()}
        onClose={() => setPending(undefined)}
      >
        <p>
          A new secret replaces the current one. Applications still using the current secret stop getting
          tokens {grace > 0 ? 'when the grace period ends' : 'at once'}.
        </p>
        <label for="grace">Grace period</label>
        <select
          id="grace"
          value={String(grace)}
          onChange={(event) => setGrace(Number(event.currentTarget.value))}
        >
          {graceChoices.map((choice) => (
            <option key={choice.seconds} value={String(choice.seconds)}>
              {choice.label}
            </option>
          ))}
        </select>
      </ConfirmDialog>
      <ConfirmDialog
        id="end-grace"
        title="End the grace period now?"
        open={pending === 'end-grace'}
        confirmLabel="End grace period"
        danger
        busy={busy}
        onConfirm={() => void confirm()}
        onClose={() => setPending(undefined)}
      >
        <p>Applications still using the previous secret stop getting tokens at once.</p>
      </ConfirmDialog>
      <ConfirmDialog
        id="invalidate"
        title="Invalidate keys and secrets?"
        open={pending === 'invalidate'}
        confirmLabel="Invalidate"
        danger
        busy={busy}
        onConfirm={() => void confirm()}
        onClose={() => setPending(undefined)}
      >
        <p>
          A new secret replaces the current one at once, any previous secret stops working, and every token
          issued to this client so far is revoked. Every application using this client stops working until it
          uses the new secret.
        </p>
      </ConfirmDialog>
    </fieldset>
  );
}
