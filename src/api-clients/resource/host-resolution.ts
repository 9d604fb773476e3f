// The last step of SPEC §2 "URLs Keycloak calls": a name whose text passed the rules
// (url-safety.ts) is looked up when the request is checked, and refused when any address it
// resolves to is internal. A name that does not resolve (or not within the timeout) is judged by
// its text alone: a receiver may be set up before its DNS record exists, and an unresolvable
// name gives Keycloak nothing to call. DNS can change after this check (rebinding), so this is a
// screen, not a fence: Keycloak's egress proxy or firewall is the second line
// (docs/security-boundary-grants.md). Runs before any Keycloak write; refusals join the other
// failing fields in one validation-failed answer.
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import type { FieldError } from '../../lib/problem.js';
import type { ApiClientFields } from './schema.js';
import {
  internalAddressReason,
  keycloakCalledUrlReason,
  originWithPort,
  type UrlSafetyOptions,
} from './url-safety.js';

/** The addresses a host name resolves to; [] when it does not resolve. */
export type ResolveHost = (host: string) => Promise<string[]>;

/** How long a lookup may take before the name counts as not resolving. */
export const DNS_LOOKUP_TIMEOUT_MS = 1500;

/** The system resolver (getaddrinfo, as Keycloak's JVM resolves too), bounded by `timeoutMs`. */
export function systemResolver(timeoutMs = DNS_LOOKUP_TIMEOUT_MS): ResolveHost {
  return async (host) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), timeoutMs);
    });
    try {
      return await Promise.race([
        lookup(host, { all: true }).then(
          (answers) => answers.map((answer) => answer.address),
          () => [],
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** The URLs Keycloak's server calls, by pointer. */
export function keycloakCalledUrls(fields: ApiClientFields): [pointer: string, url: string][] {
  const urls: [string, string | null | undefined][] = [
    ['/adminUrl', fields.adminUrl],
    ['/backchannelLogout/url', fields.backchannelLogout?.url],
    // Keycloak fetches a private-key-jwt client's keys from it (JWTClientAuthenticator)
    [
      '/credential/jwksUrl',
      fields.credential?.type === 'private-key-jwt' ? fields.credential.jwksUrl : undefined,
    ],
    // Keycloak fetches a federated issuer's discovery document and keys (credentials/federation.ts)
    ['/credential/issuer', fields.credential?.type === 'federated' ? fields.credential.issuer : undefined],
  ];
  return urls.filter((entry): entry is [string, string] => typeof entry[1] === 'string');
}

/**
 * The URLs Keycloak calls whose name resolves to an internal address, each as a failing field.
 * Only URLs that passed the text rules are looked up (the others are refused already), and of
 * those only names: not address literals, not an allowed origin. `unchanged` (an update's
 * current URLs) are not looked up again: they were judged when they were stored.
 */
export async function resolvedHostErrors(
  fields: ApiClientFields,
  options: UrlSafetyOptions,
  resolve: ResolveHost,
  unchanged: readonly string[] = [],
): Promise<FieldError[]> {
  const names = new Map<string, string[]>();
  for (const [pointer, value] of keycloakCalledUrls(fields)) {
    if (unchanged.includes(value) || keycloakCalledUrlReason(value, options)) continue;
    const url = new URL(value);
    const host = url.hostname.replace(/\.+$/, '');
    if (ipaddr.isValid(host.replace(/^\[(.*)\]$/, '$1'))) continue;
    if ((options.allowedOrigins ?? []).includes(originWithPort(url))) continue;
    names.set(host, [...(names.get(host) ?? []), pointer]);
  }
  const judged = await Promise.all(
    [...names].map(async ([host, pointers]) => {
      const addresses = await resolve(host);
      const internal = addresses.find((address) => internalAddressReason(address));
      if (!internal) return [];
      const reason = `names a host that resolves to ${internal}, which ${internalAddressReason(internal)}`;
      return pointers.map((pointer): FieldError => ({ pointer, in: 'body', reason }));
    }),
  );
  return judged.flat();
}
