// Reading a request body into the fields it asks for and the errors found so far. The schema's
// errors come from the route; the domain rules add theirs once the fields are known, and both
// are answered together, so that a caller fixes a form in one round trip. A body that failed the
// schema is still read, leniently, so that the rules can report every other failing field.
import { type FieldError, PATTERN_REASON, ProblemError } from '../../lib/problem.js';
import { DEFAULT_FIELDS } from './mapping.js';
import { apiClientErrors, normaliseFields, type RuleContext } from './rules.js';
import {
  type ApiClientFields,
  type CapabilityType,
  CREDENTIAL_TYPES,
  type CredentialFields,
  type CredentialType,
  type Jwks,
  READ_ONLY_MEMBERS,
} from './schema.js';

const readOnly = new Set<string>(READ_ONLY_MEMBERS);

/** A request body, read once: no type here claims it is valid. */
export interface BodyInput {
  /** The body's clientId, when it is a string. */
  clientId: string | undefined;
  /** What the schema found wrong. */
  errors: FieldError[];
  /** The fields the body asks for over `base` (the defaults on create, the current client on update), normalised. */
  over(base: ApiClientFields): ApiClientFields;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

export function readBody(raw: unknown, schemaErrors: FieldError[]): BodyInput {
  const body = isObject(raw) ? raw : {};
  return {
    clientId: typeof body.clientId === 'string' ? body.clientId : undefined,
    errors: [...schemaErrors, ...credentialShapeErrors(body.credential)],
    over: (base) =>
      normaliseFields(schemaErrors.length > 0 ? lenientFields(raw, base) : mergePatch(base, body)),
  };
}

/**
 * RFC 7396 over the editable fields of a body the schema accepted: a member set to null returns
 * to its default, objects (back-channel logout) merge member by member. Create merges over the
 * defaults and PUT sends every member, so all three writes share it.
 */
export function mergePatch(base: ApiClientFields, body: Record<string, unknown>): ApiClientFields {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(body) as [keyof ApiClientFields | 'clientId', unknown][]) {
    if (name === 'clientId' || readOnly.has(name) || value === undefined) continue;
    if (value === null)
      merged[name] = name === 'capabilityTypes' ? base.capabilityTypes : DEFAULT_FIELDS[name];
    else if (name === 'backchannelLogout')
      merged[name] = mergeBackchannel(base, value as Record<string, unknown>);
    else if (name === 'credential')
      merged[name] = mergeCredential(base.credential, value as Record<string, unknown>);
    else if (name === 'tokenSettings') {
      const changes = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
      merged[name] = {
        ...base.tokenSettings,
        ...Object.fromEntries(
          changes.map(([key, v]) => [key, v === null && key === 'requireDpop' ? false : v]),
        ),
      };
    } else merged[name] = value;
  }
  return merged as ApiClientFields;
}

/**
 * A credential over the current one: the same type merges member by member (an absent member
 * stays); another type starts afresh (a switch). Giving one source of keys replaces the other.
 */
export function mergeCredential(base: CredentialFields, patch: Record<string, unknown>): CredentialFields {
  const type = (CREDENTIAL_TYPES as readonly unknown[]).includes(patch.type)
    ? (patch.type as CredentialType)
    : base.type;
  if (type === 'secret') {
    const kept = base.type === 'secret' ? base.expiresAt : null;
    return { type, expiresAt: patch.expiresAt === undefined ? kept : (patch.expiresAt as string | null) };
  }
  if (type === 'federated') {
    const was = base.type === 'federated' ? base : { issuer: null, subject: null };
    const text = (name: 'issuer' | 'subject') =>
      patch[name] === undefined ? was[name] : typeof patch[name] === 'string' ? patch[name] : null;
    return { type, issuer: text('issuer'), subject: text('subject') };
  }
  const before = base.type === 'private-key-jwt' ? base : { jwks: null, jwksUrl: null };
  const jwks = patch.jwks === undefined ? (patch.jwksUrl ? null : before.jwks) : (patch.jwks as Jwks | null);
  const jwksUrl =
    patch.jwksUrl === undefined ? (patch.jwks ? null : before.jwksUrl) : (patch.jwksUrl as string | null);
  return { type, jwks: isObject(jwks) && Array.isArray(jwks.keys) ? jwks : null, jwksUrl };
}

/** Members that do not belong to the credential's type: refused, each with its pointer. */
function credentialShapeErrors(credential: unknown): FieldError[] {
  if (!isObject(credential)) return [];
  const error = (member: string, reason: string): FieldError => ({
    pointer: `/credential/${member}`,
    in: 'body',
    reason,
  });
  const given = (member: string) => credential[member] !== undefined && credential[member] !== null;
  const errors: FieldError[] = [];
  if (credential.type !== 'private-key-jwt') {
    errors.push(
      ...['jwks', 'jwksUrl']
        .filter(given)
        .map((member) => error(member, 'only a private-key-jwt credential has public keys')),
    );
  }
  if (credential.type !== 'federated') {
    errors.push(
      ...['issuer', 'subject']
        .filter(given)
        .map((member) => error(member, 'only a federated credential has an issuer and a subject')),
    );
  }
  if (credential.type !== 'secret' && given('expiresAt')) {
    errors.push(
      error(
        'expiresAt',
        credential.type === 'federated'
          ? 'only a secret expires: a federated client holds no credential of its own'
          : 'only a secret expires: a key pair is replaced by rotating its keys',
      ),
    );
  }
  return errors;
}

function mergeBackchannel(
  base: ApiClientFields,
  patch: Record<string, unknown>,
): ApiClientFields['backchannelLogout'] {
  const changes = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
  return {
    url: base.backchannelLogout?.url ?? '',
    sessionRequired: base.backchannelLogout?.sessionRequired ?? false,
    revokeOfflineSessions: base.backchannelLogout?.revokeOfflineSessions ?? false,
    ...changes,
  } as ApiClientFields['backchannelLogout'];
}

/**
 * The fields of a body that failed schema validation, as far as they can be read: each member of
 * the wrong type falls back to `base`, list items of the wrong type become "" (keeping indexes),
 * so that the domain rules can still report every other failing field in the same answer.
 */
export function lenientFields(raw: unknown, base: ApiClientFields): ApiClientFields {
  const body = isObject(raw) ? raw : {};
  const text = (name: keyof ApiClientFields, fallback: string | null) =>
    typeof body[name] === 'string' ? (body[name] as string) : body[name] === null ? null : fallback;
  const list = (name: keyof ApiClientFields, fallback: string[]) =>
    Array.isArray(body[name])
      ? (body[name] as unknown[]).map((item) => (typeof item === 'string' ? item : ''))
      : body[name] === null
        ? [] // a merge patch's null: back to the default, no list
        : fallback;
  const types = Array.isArray(body.capabilityTypes)
    ? (body.capabilityTypes as unknown[]).filter((t): t is CapabilityType => t === 'WebApp' || t === 'Script')
    : base.capabilityTypes;
  const backchannel = body.backchannelLogout;
  return {
    displayName: text('displayName', base.displayName),
    description: text('description', base.description),
    rootUrl: text('rootUrl', base.rootUrl),
    homeUrl: text('homeUrl', base.homeUrl),
    adminUrl: text('adminUrl', base.adminUrl),
    redirectUris: list('redirectUris', base.redirectUris),
    postLogoutRedirectUris: list('postLogoutRedirectUris', base.postLogoutRedirectUris),
    webOrigins: list('webOrigins', base.webOrigins),
    capabilityTypes: types.length > 0 ? types : base.capabilityTypes,
    backchannelLogout: isObject(backchannel)
      ? {
          url: typeof backchannel.url === 'string' ? backchannel.url : (base.backchannelLogout?.url ?? ''),
          sessionRequired: backchannel.sessionRequired === true,
          revokeOfflineSessions: backchannel.revokeOfflineSessions === true,
        }
      : backchannel === null
        ? null
        : base.backchannelLogout,
    scopes: list('scopes', base.scopes),
    roles: list('roles', base.roles),
    enabled: typeof body.enabled === 'boolean' ? body.enabled : base.enabled,
    credential: isObject(body.credential)
      ? mergeCredential(base.credential, {
          ...body.credential,
          expiresAt:
            typeof body.credential.expiresAt === 'string' &&
            !Number.isNaN(Date.parse(body.credential.expiresAt))
              ? body.credential.expiresAt
              : undefined,
          jwks:
            isObject(body.credential.jwks) &&
            Array.isArray(body.credential.jwks.keys) &&
            body.credential.jwks.keys.every(isObject)
              ? body.credential.jwks
              : undefined,
          jwksUrl: typeof body.credential.jwksUrl === 'string' ? body.credential.jwksUrl : undefined,
        })
      : base.credential,
    tokenSettings: isObject(body.tokenSettings)
      ? {
          accessTokenLifetimeSeconds:
            typeof body.tokenSettings.accessTokenLifetimeSeconds === 'number' ||
            body.tokenSettings.accessTokenLifetimeSeconds === null
              ? (body.tokenSettings.accessTokenLifetimeSeconds as number | null)
              : base.tokenSettings.accessTokenLifetimeSeconds,
          requireDpop:
            typeof body.tokenSettings.requireDpop === 'boolean'
              ? body.tokenSettings.requireDpop
              : base.tokenSettings.requireDpop,
        }
      : base.tokenSettings,
  };
}

/**
 * Schema errors first, then the domain's for fields the schema did not already flag. A pattern
 * the schema states is a coarse copy of a rule (the OpenAPI document shows it to clients): where
 * a rule names the same field, its reason replaces the pattern's.
 */
export function mergeErrors(schemaErrors: FieldError[], domainErrors: FieldError[]): FieldError[] {
  const isPattern = (error: FieldError) => error.reason.startsWith(PATTERN_REASON);
  const firm = schemaErrors.filter((error) => !isPattern(error));
  const covered = (pointer: string) =>
    firm.some(
      (e) =>
        pointer === e.pointer || pointer.startsWith(`${e.pointer}/`) || e.pointer.startsWith(`${pointer}/`),
    );
  const domain = domainErrors.filter((error) => !covered(error.pointer));
  const patterns = schemaErrors.filter(
    (error) => isPattern(error) && !domain.some((d) => d.pointer === error.pointer),
  );
  return [...firm, ...patterns, ...domain];
}

/** Throws validation-failed with every failing field: the schema's, `extra`, and the rules'. */
export function assertValid(
  fields: ApiClientFields,
  input: BodyInput,
  context: RuleContext,
  extra: FieldError[] = [],
): void {
  const errors = mergeErrors(input.errors, [...extra, ...apiClientErrors(fields, context)]);
  if (errors.length > 0) {
    throw new ProblemError('validation-failed', `${errors.length} field(s) failed validation`, { errors });
  }
}
