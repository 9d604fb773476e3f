// npm run realm: writes keycloak/realm-platform.json (the demo realm import) from keycloak/setup/
// and keycloak/demo/ (see scripts/lib/realm-files.ts).
import { writeFileSync } from 'node:fs';
import { realmFile } from './lib/keycloak-local.js';
import { demoRealmJson } from './lib/realm-files.js';

writeFileSync(realmFile, demoRealmJson());
console.log(`wrote ${realmFile}`);
