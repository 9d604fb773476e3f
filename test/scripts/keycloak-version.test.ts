// One Keycloak version and one Node line: keycloak/version is the pin every script and test reads;
// compose can only repeat it as its default, and the image's Node follows .nvmrc and runs the
// service as `npm start` does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pinnedKeycloakVersion, projectRoot } from '../../scripts/lib/keycloak-local.js';

const read = (file: string): string => readFileSync(join(projectRoot, file), 'utf8');

describe('pinned versions', () => {
  it("compose's default Keycloak image is the pinned version", () => {
    const image = /image: quay\.io\/keycloak\/keycloak:\$\{KEYCLOAK_VERSION:-([^}]+)\}/.exec(
      read('docker-compose.keycloak.yml'),
    );
    expect(image?.[1]).toBe(pinnedKeycloakVersion());
  });

  it("the project's Keycloak provider is built against the pinned version", () => {
    const pom = read('keycloak/providers/account-membership/pom.xml');
    expect(/<keycloak\.version>([^<]+)<\/keycloak\.version>/.exec(pom)?.[1]).toBe(pinnedKeycloakVersion());
  });

  it("the image's Node is the .nvmrc line, which package.json's engines allow", () => {
    const nvmrc = read('.nvmrc').trim();
    expect(/ARG NODE_IMAGE=node:(\d+)-/.exec(read('Dockerfile'))?.[1]).toBe(nvmrc);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(Number(/>=(\d+)/.exec(engines)?.[1])).toBeLessThanOrEqual(Number(nvmrc));
  });

  it('the image runs the service as `npm start` does, with the same Node flags', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
    expect(JSON.parse(cmd ?? '[]')).toEqual(start.split(/\s+/));
  });
});
