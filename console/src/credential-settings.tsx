// The credential a client proves itself with, as the form edits it: a client secret (with an
// optional expiry date), a key pair (a pasted JWKS or its URL; registered keys listed by kid and
// thumbprint) or a workload identity (an issuer and a subject); and the client's token settings. Saved with the rest of the form (PUT): changing
// the type switches the credential at once.
import type { ApiClient } from './api.js';
import type { Draft } from './draft.js';
import { Checkbox, ListField, TextField } from './ui.js';

type Set = <K extends keyof Draft>(key: K, value: Draft[K]) => void;
type Errors = (name: string) => string[] | undefined;

export function CredentialSettings(props: {
  draft: Draft;
  set: Set;
  errors: Errors;
  client: ApiClient | undefined;
  disabled: boolean;
}) {
  const { draft, set, errors, client, disabled } = props;
  const switching = client !== undefined && client.credential.type !== draft.credentialType;
  const keyErrors = [...(errors('credential.jwks') ?? []), ...(errors('credential.jwks.keys') ?? [])];
  return (
    <fieldset disabled={disabled} class="credential-settings">
      <legend>Credential type</legend>
      <p class="help">How the client proves itself when it asks Keycloak for tokens.</p>
      <div class="check">
        <input
          id="credential-secret"
          type="radio"
          name="credentialType"
          checked={draft.credentialType === 'secret'}
          onChange={() => set('credentialType', 'secret')}
        />
        <label for="credential-secret">Client secret</label>
      </div>
      <div class="check">
        <input
          id="credential-key-pair"
          type="radio"
          name="credentialType"
          checked={draft.credentialType === 'private-key-jwt'}
          onChange={() => set('credentialType', 'private-key-jwt')}
        />
        <label for="credential-key-pair">Key pair</label>
      </div>
      <div class="check">
        <input
          id="credential-federated"
          type="radio"
          name="credentialType"
          checked={draft.credentialType === 'federated'}
          onChange={() => set('credentialType', 'federated')}
        />
        <label for="credential-federated">Workload identity</label>
      </div>
      {switching && (
        <p class="grace" role="status">
          Saving switches the credential at once: the current {CURRENT[client?.credential.type ?? 'secret']}{' '}
          stop working.
        </p>
      )}
      {errors('credential') && (
        <ul class="field-errors">
          {errors('credential')?.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
      {draft.credentialType === 'federated' ? (
        <WorkloadIdentityFields draft={draft} set={set} errors={errors} />
      ) : draft.credentialType === 'secret' ? (
        <div class={`field${errors('credential.expiresAt') ? ' invalid' : ''}`}>
          <label for="secretExpiresAt">Secret expires on</label>
          <p class="help" id="secretExpiresAt-help">
            Optional. From that day (00:00 UTC) Keycloak refuses the secret. Empty: it does not expire, unless
            your account has a maximum secret lifetime.
          </p>
          <input
            id="secretExpiresAt"
            type="date"
            value={draft.secretExpiresAt.slice(0, 10)}
            aria-describedby="secretExpiresAt-help"
            aria-invalid={errors('credential.expiresAt') ? true : undefined}
            onInput={(event) => {
              const day = (event.currentTarget as HTMLInputElement).value;
              set('secretExpiresAt', day ? `${day}T00:00:00.000Z` : '');
            }}
          />
          {errors('credential.expiresAt') && (
            <ul class="field-errors">
              {errors('credential.expiresAt')?.map((error) => (
                <li key={error}>{error}</li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        <>
          <div class="check">
            <input
              id="key-source-jwks"
              type="radio"
              name="keySource"
              checked={draft.keySource === 'jwks'}
              onChange={() => set('keySource', 'jwks')}
            />
            <label for="key-source-jwks">Paste the public keys (JWKS)</label>
          </div>
          <div class="check">
            <input
              id="key-source-url"
              type="radio"
              name="keySource"
              checked={draft.keySource === 'jwksUrl'}
              onChange={() => set('keySource', 'jwksUrl')}
            />
            <label for="key-source-url">Give the URL of the public keys</label>
          </div>
          {draft.keySource === 'jwks' ? (
            <ListField
              id="jwks"
              label="Public keys (JWKS)"
              help='A JSON Web Key Set of public keys: {"keys": [...]}, RSA of 2048 bits or more or EC, each with a kid. Never paste a private key: it stays with the application. To rotate, add the new key, then remove the old one.'
              value={draft.jwks}
              errors={keyErrors.length > 0 ? keyErrors : undefined}
              onInput={(value) => set('jwks', value)}
            />
          ) : (
            <TextField
              id="jwksUrl"
              label="JWKS URL"
              help="An https URL where Keycloak fetches the application's public keys (a public host)."
              value={draft.jwksUrl}
              errors={errors('credential.jwksUrl')}
              onInput={(value) => set('jwksUrl', value)}
            />
          )}
          {client?.credential.type === 'private-key-jwt' && (client.credential.keys?.length ?? 0) > 0 && (
            <table class="keys" aria-label="Registered keys">
              <thead>
                <tr>
                  <th scope="col">Key ID (kid)</th>
                  <th scope="col">Type</th>
                  <th scope="col">Thumbprint (SHA-256)</th>
                </tr>
              </thead>
              <tbody>
                {client.credential.keys?.map((key) => (
                  <tr key={key.kid}>
                    <td>{key.kid}</td>
                    <td>
                      {key.kty}
                      {key.alg ? ` ${key.alg}` : ''}
                    </td>
                    <td>
                      <code>{key.thumbprint}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </fieldset>
  );
}

const CURRENT = { secret: 'secret', 'private-key-jwt': 'keys', federated: 'workload tokens' } as const;

/** Issuers offered as a start: GitHub Actions' exact issuer, and the shape of a Kubernetes cluster's. */
const ISSUER_EXAMPLES = [
  {
    label: 'GitHub Actions',
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'repo:<owner>/<repo>:environment:<environment>',
  },
  {
    label: 'Kubernetes (EKS)',
    issuer: 'https://oidc.eks.<region>.amazonaws.com/id/<cluster id>',
    subject: 'system:serviceaccount:<namespace>:<service account>',
  },
] as const;

function WorkloadIdentityFields(props: { draft: Draft; set: Set; errors: Errors }) {
  const { draft, set, errors } = props;
  return (
    <>
      <p class="help" id="workload-identity-help">
        No credential at all: the application sends the identity token its platform already gives it (a GitHub
        Actions job's OIDC token, a Kubernetes pod's service-account token) as its client assertion. Keycloak
        checks the token against the issuer's published keys, and that its subject is exactly the one below.
        The token's audience must be the realm's issuer URL.
      </p>
      <fieldset class="examples">
        <legend>Start from an issuer</legend>
        {ISSUER_EXAMPLES.map((example) => (
          <button
            key={example.label}
            type="button"
            onClick={() => {
              set('issuer', example.issuer);
              // a subject of the operator's own stays; an example's template follows the issuer
              if (!draft.subject || ISSUER_EXAMPLES.some((other) => other.subject === draft.subject))
                set('subject', example.subject);
            }}
          >
            {example.label}
          </button>
        ))}
      </fieldset>
      <TextField
        id="issuer"
        label="Issuer"
        help="The token's iss, exactly: an https URL whose discovery document and keys Keycloak fetches. For Kubernetes, your cluster's service-account issuer (kubectl get --raw /.well-known/openid-configuration)."
        value={draft.issuer}
        errors={errors('credential.issuer')}
        onInput={(value) => set('issuer', value)}
      />
      <TextField
        id="subject"
        label="Subject"
        help="The token's sub, compared exactly: e.g. repo:acme/deploy:environment:prod (GitHub Actions) or system:serviceaccount:ci:deploy (Kubernetes)."
        value={draft.subject}
        errors={errors('credential.subject')}
        onInput={(value) => set('subject', value)}
      />
    </>
  );
}

export function TokenSettingsFields(props: { draft: Draft; set: Set; errors: Errors; disabled: boolean }) {
  const { draft, set, errors, disabled } = props;
  return (
    <fieldset disabled={disabled}>
      <legend>Token settings</legend>
      <TextField
        id="accessTokenLifetime"
        label="Access token lifespan (seconds)"
        help="How long an access token issued to this client lives: at least 60 seconds, at most the realm's own lifespan. Empty: the realm's."
        value={draft.accessTokenLifetime}
        errors={errors('tokenSettings.accessTokenLifetimeSeconds')}
        onInput={(value) => set('accessTokenLifetime', value)}
      />
      <Checkbox
        id="requireDpop"
        label="Require DPoP"
        help="Keycloak issues only DPoP-bound access tokens (RFC 9449): the application must send a DPoP proof with each token request."
        checked={draft.requireDpop}
        onChange={(on) => set('requireDpop', on)}
      />
    </fieldset>
  );
}
