// What GET /console/config.json answers, shared by the service (src/http/console.ts) and the page
// (console/src/auth.ts): a file with no imports, so that the console's own type check can read it.
/** What the page needs to log in and to find the caller's account; no secret. */
export interface ConsoleConfig {
  keycloakUrl: string;
  realm: string;
  clientId: string;
  accountClaim: string;
  rolesClaim: string;
  maxGracePeriodSeconds: number;
  secretRevealEnabled: boolean;
}
