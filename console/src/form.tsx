// The configuration form of one API client: general settings, access settings, capability config,
// credential, client scopes and roles. The API's problem+json errors are shown next to the
// fields their JSON pointers name.

import { useEffect, useState } from 'preact/hooks';
import type { ApiClientsClient } from '../../clients/typescript/src/index.js';
import { type ApiClient, type CatalogueEntry, type Refusal, toRefusal } from './api.js';
import type { ConsoleConfig } from './auth.js';
import { CatalogueChoices } from './catalogue-choices.js';
import { Credential } from './credential.js';
import { CredentialSettings, TokenSettingsFields } from './credential-settings.js';
import { type Draft, emptyDraft, FORM_FIELDS, fromClient, parsedJwks, toFields } from './draft.js';
import { type Announce, routeTo } from './routes.js';
import { Checkbox, ConfirmDialog, FormErrors, formatDate, ListField, TextField } from './ui.js';

/** Access settings: one text field or one-per-line list each, in the seed's order, with its help. */
const ACCESS_FIELDS: {
  id: 'rootUrl' | 'homeUrl' | 'redirectUris' | 'postLogoutRedirectUris' | 'webOrigins' | 'adminUrl';
  label: string;
  help: string;
  list?: true;
}[] = [
  {
    id: 'rootUrl',
    label: 'Root URL',
    help: 'The base URL of the application; relative URLs below resolve against it.',
  },
  {
    id: 'homeUrl',
    label: 'Home URL',
    help: 'Where to link back to the application: an absolute URL, or a /path under the Root URL.',
  },
  {
    id: 'redirectUris',
    label: 'Valid redirect URIs',
    help: 'Where the login may send the browser back to, one per line: absolute URLs or /paths. A * only at the end.',
    list: true,
  },
  {
    id: 'postLogoutRedirectUris',
    label: 'Valid post logout redirect URIs',
    help: 'Where the browser may go after a logout, one per line; + allows every valid redirect URI; empty allows none.',
    list: true,
  },
  {
    id: 'webOrigins',
    label: 'Web origins',
    help: 'Origins allowed to call from a browser (CORS), one per line, e.g. https://app.example.com; + allows the origins of the redirect URIs.',
    list: true,
  },
  {
    id: 'adminUrl',
    label: 'Admin URL',
    help: "Where Keycloak's server sends logout and revocation requests for this client (https).",
  },
];

/** The secret of a client this page just created, handed to its configuration page once. */
const createdSecrets = new Map<string, string>();

export function ClientForm(props: {
  api: ApiClientsClient;
  config: ConsoleConfig;
  account: string;
  clientId: string | undefined;
  canWrite: boolean;
  announce: Announce;
}) {
  const { api, config, account, clientId, canWrite, announce } = props;
  const creating = clientId === undefined;
  const prefix = `${account}_`;
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [client, setClient] = useState<ApiClient | undefined>();
  const [etag, setEtag] = useState<string | undefined>();
  const [scopes, setScopes] = useState<CatalogueEntry[]>([]);
  const [roles, setRoles] = useState<CatalogueEntry[]>([]);
  const [refusal, setRefusal] = useState<Refusal | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  useEffect(() => {
    void api.GET('/v1/scopes').then(({ data }) => data && setScopes(data.items));
    void api.GET('/v1/roles').then(({ data }) => data && setRoles(data.items));
    if (creating) return;
    void api
      .GET('/v1/accounts/{accountId}/api-clients/{clientId}', {
        params: { path: { accountId: account, clientId } },
      })
      .then(({ data, error, response }) => {
        if (!data) {
          setLoadError(toRefusal(response.status, error).detail);
          return;
        }
        setClient(data);
        setEtag(response.headers.get('etag') ?? undefined);
        setDraft(fromClient(data));
      });
  }, [api, account, clientId, creating]);

  const fieldErrors = (name: string) => refusal?.fields[name];
  const otherErrors = Object.entries(refusal?.fields ?? {})
    .filter(([name]) => !FORM_FIELDS.includes(name))
    .flatMap(([name, reasons]) => reasons.map((reason) => `${name || 'request'}: ${reason}`));

  function refused(status: number, problem: unknown) {
    const next = toRefusal(status, problem);
    if (next.type === 'precondition-failed')
      next.detail =
        'Someone changed this API client since you opened it. Reload the page to see the current version.';
    setRefusal(next);
    announce(`Not saved: ${next.detail}`);
    // the first field the answer names gets the focus
    setTimeout(() => {
      const invalid = document.querySelector<HTMLElement>('[aria-invalid="true"], .form-errors');
      invalid?.focus();
    }, 0);
  }

  async function save(event: Event) {
    event.preventDefault();
    setRefusal(undefined);
    if (
      draft.credentialType === 'private-key-jwt' &&
      draft.keySource === 'jwks' &&
      parsedJwks(draft.jwks) === undefined
    ) {
      return refused(400, {
        detail: 'The public keys are not valid JSON',
        errors: [
          { pointer: '/credential/jwks', in: 'body', reason: 'must be a JSON Web Key Set: {"keys": [...]}' },
        ],
      });
    }
    setSaving(true);
    if (creating) {
      const { data, error, response } = await api.POST('/v1/accounts/{accountId}/api-clients', {
        params: { path: { accountId: account } },
        body: { clientId: `${prefix}${draft.suffix.trim()}`, ...toFields(draft) },
      });
      setSaving(false);
      if (!data) return refused(response.status, error);
      if (data.secret !== undefined) createdSecrets.set(data.clientId, data.secret);
      announce(
        data.secret !== undefined
          ? `API client ${data.clientId} created. Copy its secret now.`
          : `API client ${data.clientId} created. It gets tokens with its private key.`,
      );
      window.location.hash = routeTo.edit(account, data.clientId);
      return;
    }
    const { data, error, response } = await api.PUT('/v1/accounts/{accountId}/api-clients/{clientId}', {
      params: { path: { accountId: account, clientId }, header: etag ? { 'if-match': etag } : {} },
      body: toFields(draft),
    });
    setSaving(false);
    if (!data) return refused(response.status, error);
    // a switch to a secret answers the new secret, once: the credential section shows it
    if (data.secret !== undefined) createdSecrets.set(data.clientId, data.secret);
    const { secret: _shownOnce, ...saved } = data;
    setClient(saved);
    setEtag(response.headers.get('etag') ?? undefined);
    setDraft(fromClient(saved));
    announce(data.secret !== undefined ? 'Saved. Copy the new secret now.' : 'Saved.');
  }

  /** The current ETag, after a change made outside the form (a regenerate moves the secret's expiry). */
  async function refreshEtag() {
    if (!clientId) return;
    const { response } = await api.GET('/v1/accounts/{accountId}/api-clients/{clientId}', {
      params: { path: { accountId: account, clientId } },
    });
    if (response.ok) setEtag(response.headers.get('etag') ?? undefined);
  }

  async function remove() {
    if (!clientId) return;
    const { error, response } = await api.DELETE('/v1/accounts/{accountId}/api-clients/{clientId}', {
      params: { path: { accountId: account, clientId } },
    });
    setConfirmDelete(false);
    if (response.status !== 204) return refused(response.status, error);
    announce(`API client ${clientId} deleted.`);
    window.location.hash = routeTo.list(account);
  }

  if (loadError) {
    return (
      <section>
        <p>
          <a href={routeTo.list(account)}>‹ API Clients</a>
        </p>
        <p class="form-errors" role="alert">
          {loadError}
        </p>
      </section>
    );
  }
  if (!creating && !client) return <p class="loading">Loading…</p>;
  const title = creating ? 'Add API client' : client?.displayName || clientId;
  const readOnly = !canWrite;

  return (
    <section aria-labelledby="form-title">
      <p>
        <a href={routeTo.list(account)}>‹ API Clients</a>
      </p>
      <h1 id="form-title">{title}</h1>
      {client && (
        <p class="meta">
          Created {formatDate(client.createdAt, 'unknown')} · Last used {formatDate(client.lastUsedAt)} ·{' '}
          <a href={routeTo.activity(account, client.clientId)}>Activity</a>
        </p>
      )}
      <form noValidate onSubmit={(event) => void save(event)}>
        <FormErrors detail={refusal?.detail} rest={otherErrors} />
        <fieldset disabled={readOnly}>
          <legend>General settings</legend>
          {creating ? (
            <TextField
              id="clientId"
              label="Client ID"
              help={`The ID applications use to get tokens: your account's prefix ${prefix}, then letters, digits, dots, dashes or underscores. It cannot be changed later.`}
              prefix={prefix}
              value={draft.suffix}
              required
              errors={fieldErrors('clientId')}
              onInput={(value) => set('suffix', value)}
            />
          ) : (
            <TextField
              id="clientId"
              label="Client ID"
              help="The ID applications use to get tokens. It cannot be changed."
              value={clientId ?? ''}
              readOnly
            />
          )}
          <TextField
            id="displayName"
            label="Display Name"
            help="Shown in lists instead of the Client ID. Leave it empty to show the Client ID."
            value={draft.displayName}
            errors={fieldErrors('displayName')}
            onInput={(value) => set('displayName', value)}
          />
          <TextField
            id="description"
            label="Description"
            help="What this client is for, e.g. which integration uses it."
            value={draft.description}
            errors={fieldErrors('description')}
            onInput={(value) => set('description', value)}
          />
          <Checkbox
            id="enabled"
            label="Enabled"
            help="A disabled client gets no tokens."
            checked={draft.enabled}
            onChange={(on) => set('enabled', on)}
          />
        </fieldset>

        <fieldset disabled={readOnly}>
          <legend>Access settings</legend>
          {ACCESS_FIELDS.map(({ id, label, help, list }) => {
            const Field = list ? ListField : TextField;
            return (
              <Field
                key={id}
                id={id}
                label={label}
                help={help}
                value={draft[id]}
                errors={fieldErrors(id)}
                onInput={(value) => set(id, value)}
              />
            );
          })}
        </fieldset>

        <fieldset
          disabled={readOnly}
          aria-describedby={fieldErrors('capabilityTypes')?.length ? 'capabilityTypes-error' : undefined}
        >
          <legend>Capability config</legend>
          <p class="help">Capability Types: what the client does. Choose at least one.</p>
          <Checkbox
            id="capability-webapp"
            label="WebApp"
            help="A browser app that logs users in (authorization code flow)."
            checked={draft.webApp}
            onChange={(on) => set('webApp', on)}
          />
          <Checkbox
            id="capability-script"
            label="Script"
            help="A script or server that gets tokens with its own secret (client credentials)."
            checked={draft.script}
            onChange={(on) => set('script', on)}
          />
          {fieldErrors('capabilityTypes') && (
            <ul class="field-errors" id="capabilityTypes-error">
              {fieldErrors('capabilityTypes')?.map((error) => (
                <li key={error}>{error}</li>
              ))}
            </ul>
          )}
          {draft.webApp && (
            <fieldset>
              <legend>Backchannel logout</legend>
              <TextField
                id="backchannelUrl"
                label="Backchannel logout URL"
                help="Keycloak's server posts a logout token here when a user's session ends (https). Leave it empty for none."
                value={draft.backchannelUrl}
                errors={[
                  ...(fieldErrors('backchannelLogout.url') ?? []),
                  ...(fieldErrors('backchannelLogout') ?? []),
                ]}
                onInput={(value) => set('backchannelUrl', value)}
              />
              <Checkbox
                id="sessionRequired"
                label="Backchannel logout session required"
                help="Include the session ID (sid) in the logout token."
                checked={draft.sessionRequired}
                onChange={(on) => set('sessionRequired', on)}
              />
              <Checkbox
                id="revokeOfflineSessions"
                label="Backchannel logout revoke offline sessions"
                help="Also revoke the user's offline sessions."
                checked={draft.revokeOfflineSessions}
                onChange={(on) => set('revokeOfflineSessions', on)}
              />
            </fieldset>
          )}
        </fieldset>

        <CredentialSettings
          draft={draft}
          set={set}
          errors={fieldErrors}
          client={client}
          disabled={readOnly}
        />
        {!creating && client && client.credential.type === 'secret' && (
          <Credential
            key={`${client.clientId}-${client.credential.type}`}
            api={api}
            config={config}
            account={account}
            client={client}
            initialSecret={createdSecrets.get(client.clientId)}
            onSecretSeen={() => createdSecrets.delete(client.clientId)}
            onChanged={(changes) => {
              setClient({ ...client, ...changes });
              // a regenerate gives the secret its own expiry: the form and the ETag follow
              if (changes.credential?.type === 'secret') {
                set('secretExpiresAt', changes.credential.expiresAt ?? '');
                void refreshEtag();
              }
            }}
            canWrite={canWrite}
            announce={announce}
          />
        )}

        <TokenSettingsFields draft={draft} set={set} errors={fieldErrors} disabled={readOnly} />

        <CatalogueChoices
          legend="Client scopes"
          help="The APIs this client's tokens are for."
          idPrefix="scope"
          catalogue={scopes}
          chosen={draft.scopes}
          errors={fieldErrors('scopes')}
          disabled={readOnly}
          onChange={(chosen) => set('scopes', chosen)}
        />
        <CatalogueChoices
          legend="Roles"
          help="What this client may view or change."
          idPrefix="role"
          catalogue={roles}
          chosen={draft.roles}
          errors={fieldErrors('roles')}
          disabled={readOnly}
          onChange={(chosen) => set('roles', chosen)}
        />

        {canWrite && (
          <div class="actions">
            <button type="submit" class="primary" disabled={saving}>
              {creating ? 'Save' : 'Save changes'}
            </button>
            <a class="button" href={routeTo.list(account)}>
              Cancel
            </a>
            {!creating && (
              <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
                Delete
              </button>
            )}
          </div>
        )}
      </form>
      {!creating && (
        <ConfirmDialog
          id="delete-client"
          title={`Delete ${clientId}?`}
          open={confirmDelete}
          confirmLabel="Delete"
          danger
          onConfirm={() => void remove()}
          onClose={() => setConfirmDelete(false)}
        >
          <p>
            Applications using this client can no longer get tokens, and its secret stops working. This cannot
            be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
