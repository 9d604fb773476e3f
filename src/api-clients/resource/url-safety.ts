// Two kinds of URL on an API client (SPEC §2). "URLs Keycloak calls" (adminUrl, the back-channel
// logout URL) are requested by Keycloak's server from inside the platform's network: a customer
// must not aim them at that network. "URLs browsers use" must be written the way browsers send
// them, because Keycloak compares them as text.
//
// Address ranges come from ipaddr.js (the library behind Node's proxy-addr), which follows the
// IANA special-purpose registries: any IP literal it does not call plain "unicast" is refused.
// Names are judged by the public suffix list (tldts): a name whose top-level domain is not an
// ICANN one (`kubernetes.default`, `vault.vault.svc`, `x.corp`) is the platform's own. What a
// name resolves to is judged when the request is checked (host-resolution.ts).
import ipaddr from 'ipaddr.js';
import { parse as parseDomain } from 'tldts';

export interface UrlSafetyOptions {
  /** Accept http:// for URLs Keycloak calls (development only). */
  allowHttp: boolean;
  /** Host names under these suffixes belong to the platform's own network (besides the built-in ones). */
  internalSuffixes: readonly string[];
  /**
   * Exact origins (`scheme://host:port`, as allowedOrigin() writes them) Keycloak may call although
   * they are internal or plain http: the operator's own receivers (KEYCLOAK_CALLS_ALLOWED_ORIGINS).
   */
  allowedOrigins?: readonly string[];
  /**
   * The platform's own Keycloak (`scheme://host:port` of KEYCLOAK_URL and KEYCLOAK_PUBLIC_URL): never
   * a federated issuer, whose tokens would be the realm's own (or another realm's of that server).
   */
  keycloakOrigins?: readonly string[];
  /** The only origins a federated issuer may have (FEDERATED_ISSUER_ORIGINS); empty or absent: any. */
  federatedIssuerOrigins?: readonly string[];
}

export const STRICT_URL_SAFETY: UrlSafetyOptions = { allowHttp: false, internalSuffixes: [] };

/** A URL's origin with its port always written (`https://host:443`): how allowed origins are compared. */
export function originWithPort(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname}:${port}`;
}

/**
 * An entry of KEYCLOAK_CALLS_ALLOWED_ORIGINS as it is compared, or undefined when it is not
 * exactly `http(s)://host:port` (no path, query, user info or wildcard; the port written).
 */
export function allowedOrigin(entry: string): string | undefined {
  const match = /^(https?):\/\/([^/?#@*\s]+):(\d{1,5})$/i.exec(entry);
  if (!match) return undefined;
  try {
    const url = new URL(entry);
    if (url.pathname !== '/' || url.username || url.password) return undefined;
    return originWithPort(url);
  } catch {
    return undefined;
  }
}

const isAllowedOrigin = (url: URL, options: UrlSafetyOptions): boolean =>
  (options.allowedOrigins ?? []).includes(originWithPort(url));

/** Names no public service answers to: RFC 6761 (localhost), RFC 6762 (local), ICANN's "internal". */
const BUILT_IN_INTERNAL_SUFFIXES = ['localhost', 'local', 'internal'];

/** IPv4-compatible IPv6 (::a.b.c.d, deprecated by RFC 4291), which ipaddr.js files under "unicast". */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * ICANN top-level domains that hold no public web receiver: `arpa` is the infrastructure domain
 * (reverse DNS, RFC 8375's `home.arpa` for home networks) and `onion` is reached through Tor only
 * (RFC 7686). The public suffix list counts both as ICANN suffixes.
 */
const SPECIAL_USE_TLDS = ['arpa', 'onion'];

/**
 * Wildcard DNS services that answer a name with the address it spells. Dotted and dashed decimal
 * spellings are recognised under any domain; these also answer the hex (`7f000001`) and dashed
 * IPv6 (`fe80--1`) spellings, which are too common in ordinary names to be judged everywhere.
 */
const WILDCARD_DNS_DOMAINS = ['nip.io', 'sslip.io', 'xip.io', 'traefik.me'];

/** Why an IP address (as a string) is not a public host, if it is not. */
export function internalAddressReason(text: string): string | undefined {
  if (!ipaddr.isValid(text)) return undefined;
  const address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && address.match(IPV4_COMPATIBLE)) {
    return 'is an IPv4-compatible IPv6 address, which reaches an IPv4 host: use a public host name';
  }
  const range = address.range();
  return range === 'unicast' ? undefined : `is an address in a ${range} range, not a public host`;
}

/**
 * An internal address this name spells for a wildcard DNS service (`10.0.0.1.sslip.io`,
 * `app-127-0-0-1.nip.io`, `169.254.169.254.nip.io`), if it spells one.
 */
function spelledAddress(host: string): string | undefined {
  const internal = (text: string) => (internalAddressReason(text) ? text : undefined);
  // four decimal octets in a row, separated by dots or dashes, anywhere in the name
  const parts = host.split(/[.-]/);
  for (let i = 0; i + 4 <= parts.length; i += 1) {
    const octets = parts.slice(i, i + 4);
    if (octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)) {
      const found = internal(octets.map(Number).join('.'));
      if (found) return found;
    }
  }
  const service = WILDCARD_DNS_DOMAINS.find((domain) => host.endsWith(`.${domain}`));
  if (!service) return undefined;
  for (const label of host.slice(0, -service.length - 1).split('.')) {
    // nip.io's hex form: 8 hex digits, alone or after a dash
    const hex = /(?:^|-)([0-9a-f]{8})$/.exec(label)?.[1];
    if (hex) {
      const found = internal(ipaddr.fromByteArray([...Buffer.from(hex, 'hex')]).toString());
      if (found) return found;
    }
    // sslip.io's IPv6 form: the address with each ":" written "-"
    const v6 = label.replace(/-/g, ':');
    if (label.includes('--') && ipaddr.IPv6.isValid(v6)) {
      const found = internal(v6);
      if (found) return found;
    }
  }
  return undefined;
}

/** Why this name (not an address) belongs to the platform rather than to the public DNS, if it does. */
function internalNameReason(host: string): string | undefined {
  const spelled = spelledAddress(host);
  if (spelled) {
    return `spells the address ${spelled} for a wildcard DNS service, which answers with that internal address`;
  }
  const tld = host.slice(host.lastIndexOf('.') + 1);
  if (SPECIAL_USE_TLDS.includes(tld)) return `names a host under "${tld}", which holds no public web service`;
  const { isIcann, publicSuffix } = parseDomain(host, { allowPrivateDomains: false });
  if (!isIcann) {
    return `names a host under "${publicSuffix ?? tld}", which is not a public top-level domain: it resolves inside the platform`;
  }
  return undefined;
}

interface Parts {
  scheme: string;
  userinfo: string | undefined;
  /** The host as written, brackets included for IPv6. */
  host: string;
  /** The port as written ("" for "host:"), or undefined when there is no ":". */
  port: string | undefined;
}

/** The parts of an absolute URL as written, before a URL parser repairs or normalises anything. */
function partsAsWritten(value: string): Parts | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#\\]*)/.exec(value);
  if (!match) return undefined;
  const scheme = match[1] as string;
  const authority = match[2] as string;
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hostPort = authority.slice(at + 1);
  const hostMatch = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort);
  if (!hostMatch) return undefined;
  return { scheme, userinfo, host: hostMatch[1] as string, port: hostMatch[2] };
}

function parse(value: string): { parts: Parts; url: URL } | undefined {
  const parts = partsAsWritten(value);
  if (!parts) return undefined;
  try {
    return { parts, url: new URL(value) };
  } catch {
    return undefined;
  }
}

/** Why this host (as a WHATWG URL parser normalised it) names the platform's own network, if it does. */
export function internalHostReason(
  hostname: string,
  extraSuffixes: readonly string[] = [],
): string | undefined {
  const host = hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '')
    .toLowerCase();
  if (ipaddr.isValid(host) && (ipaddr.IPv6.isValid(host) || ipaddr.IPv4.isValidFourPartDecimal(host))) {
    return internalAddressReason(host);
  }
  const suffixes = [...BUILT_IN_INTERNAL_SUFFIXES, ...extraSuffixes]
    .map((suffix) =>
      suffix
        .trim()
        .replace(/^\.+|\.+$/g, '')
        .toLowerCase(),
    )
    .filter(Boolean);
  const suffix = suffixes.find((s) => host === s || host.endsWith(`.${s}`));
  if (suffix) return `names a host under "${suffix}", which is internal to the platform`;
  if (!host.includes('.')) return 'names a host without a domain, which resolves inside the platform';
  return internalNameReason(host);
}

/**
 * Why Keycloak's server must not call this URL, or undefined when it may: https only (http when
 * allowed), no user name or password, no "${...}" (ResourceAdminManager replaces
 * ${application.session.host} in adminUrl with a host the client's session registered), and no
 * host inside the platform, in whatever spelling (2130706433, 0x7f.1 and 0177.0.0.1 are all
 * 127.0.0.1 to a URL parser). The host must be written as the parser reads it, so that what was
 * checked is what Keycloak calls.
 */
export function keycloakCalledUrlReason(value: string, options: UrlSafetyOptions): string | undefined {
  const schemes = options.allowHttp ? 'an absolute http(s) URL' : 'an absolute https URL';
  if (/\$\{/.test(value)) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Keycloak's placeholder syntax, named for the caller
    return 'must not contain a "${...}" placeholder: Keycloak fills in a host of its own';
  }
  if (/\s/.test(value)) return `must be ${schemes}`;
  const parsed = parse(value);
  if (!parsed) return `must be ${schemes}`;
  const { parts, url } = parsed;
  const scheme = parts.scheme.toLowerCase();
  // an operator's own receiver, named exactly: plain http and an internal host are let through
  const allowed = isAllowedOrigin(url, options);
  if (!(scheme === 'https' || ((options.allowHttp || allowed) && scheme === 'http')))
    return `must be ${schemes}`;
  if (parts.userinfo !== undefined) return 'must not carry a user name or password';
  if (url.hostname === '') return `must be ${schemes}`;
  const internal = allowed ? undefined : internalHostReason(url.hostname, options.internalSuffixes);
  if (internal) return internal;
  return writtenAsBrowsersSend(parts, url);
}

/** Scheme and host as a browser writes them: lowercase, ASCII (xn-- for IDNs), the parser's spelling, no empty port. */
function writtenAsBrowsersSend(parts: Parts, url: URL): string | undefined {
  if (parts.scheme !== parts.scheme.toLowerCase())
    return `must write its scheme in lowercase: ${url.protocol}//`;
  if (parts.port === '') return 'must not end its host with an empty port (":")';
  if (parts.host !== url.hostname) return `must write its host as browsers send it: ${url.hostname}`;
  return undefined;
}

/**
 * Why an absolute http(s) URL is not written as browsers send it, or undefined. Keycloak compares
 * redirect URIs and origins with what the browser sends, as text: "HTTPS://App.Example.com" would
 * never match, and a user name or password in a URL is a phishing device.
 */
export function browserUrlReason(value: string): string | undefined {
  const parsed = parse(value);
  if (!parsed) return undefined; // not an absolute URL: the caller's own rule says so
  if (parsed.parts.userinfo !== undefined) return 'must not carry a user name or password';
  return writtenAsBrowsersSend(parsed.parts, parsed.url);
}

/** rootUrl: what relative URIs resolve against, so no query, fragment or wildcard. */
export function rootUrlReason(value: string): string | undefined {
  if (value.includes('*')) return 'must not contain "*"';
  if (value.includes('?')) return 'must not contain a query (?)';
  if (value.includes('#')) return 'must not contain a fragment (#)';
  return browserUrlReason(value);
}
