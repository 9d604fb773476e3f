// npm run setup-realm -- --url https://keycloak.example.com --realm platform [--docs-url URL]
//                        [--admin-realm master] [--allow-offline-access] [--dry-run]
//
// Applies what the API Clients service needs (keycloak/setup/api-clients.json) to an EXISTING
// realm, as a Keycloak admin, without demo data. Safe to run again: a second run changes nothing.
// The admin logs in from the environment, never from the command line (which `ps` shows):
//   KEYCLOAK_ADMIN_USERNAME + KEYCLOAK_ADMIN_PASSWORD   a user, through admin-cli (password grant)
//   KEYCLOAK_ADMIN_CLIENT_ID + KEYCLOAK_ADMIN_CLIENT_SECRET   or a client (client credentials)
// both in --admin-realm (default master). When it creates the service's client, it prints the
// secret Keycloak generated, once: that is KEYCLOAK_CLIENT_SECRET for the service.
import { parseArgs } from 'node:util';
import KeycloakAdminClient from '@keycloak/keycloak-admin-client';
import { readSetup } from './lib/realm-files.js';
import { applyRealmSetup } from './lib/realm-setup.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    realm: { type: 'string' },
    'admin-realm': { type: 'string', default: 'master' },
    'docs-url': { type: 'string' },
    'allow-offline-access': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`setup-realm: ${message}\n`);
  process.exit(2);
}

if (!values.url || !values.realm) fail('--url and --realm are required');
const env = process.env;
const credentials =
  env.KEYCLOAK_ADMIN_CLIENT_ID && env.KEYCLOAK_ADMIN_CLIENT_SECRET
    ? {
        grantType: 'client_credentials' as const,
        clientId: env.KEYCLOAK_ADMIN_CLIENT_ID,
        clientSecret: env.KEYCLOAK_ADMIN_CLIENT_SECRET,
      }
    : env.KEYCLOAK_ADMIN_USERNAME && env.KEYCLOAK_ADMIN_PASSWORD
      ? {
          grantType: 'password' as const,
          clientId: 'admin-cli',
          username: env.KEYCLOAK_ADMIN_USERNAME,
          password: env.KEYCLOAK_ADMIN_PASSWORD,
        }
      : fail(
          'set KEYCLOAK_ADMIN_USERNAME and KEYCLOAK_ADMIN_PASSWORD, or KEYCLOAK_ADMIN_CLIENT_ID and KEYCLOAK_ADMIN_CLIENT_SECRET',
        );

const kc = new KeycloakAdminClient({
  baseUrl: values.url.replace(/\/+$/, ''),
  realmName: values['admin-realm'],
});
try {
  await kc.auth(credentials);
} catch (error) {
  fail(`the admin login to realm ${values['admin-realm']} failed: ${(error as Error).message}`);
}

let result: Awaited<ReturnType<typeof applyRealmSetup>>;
try {
  result = await applyRealmSetup(kc, values.realm, readSetup(), {
    docsUrl: values['docs-url'],
    allowOfflineAccess: values['allow-offline-access'],
    dryRun: values['dry-run'],
  });
} catch (error) {
  fail((error as Error).message);
}

const verb = values['dry-run'] ? 'would change' : 'changed';
if (result.changes.length === 0) console.log(`realm ${values.realm}: already set up, nothing changed`);
else
  console.log(`realm ${values.realm}: ${verb} ${result.changes.length}:\n  ${result.changes.join('\n  ')}`);
for (const warning of result.warnings) console.log(`warning: ${warning}`);
for (const [clientId, secret] of Object.entries(result.createdSecrets)) {
  console.log(
    `\nThe secret Keycloak generated for ${clientId}, shown this once; give it to the service as KEYCLOAK_CLIENT_SECRET:\n${secret}`,
  );
}
