// The cluster test's Keycloak: a PostgreSQL server of its own and two Keycloak nodes of one cluster
// on it (each with its own HTTP, management and cluster port on 127.0.0.1; Keycloak 26 finds the
// other node through the database, JDBC_PING). Started once, stopped at the end, also on failure.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestProject } from 'vitest/node';
import { type RunningKeycloak, waitForRealm } from '../../scripts/lib/keycloak-local.js';
import { type KeycloakOnPostgres, startKeycloakOnPostgres } from '../../scripts/lib/postgres-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Every node's URL; keycloakUrl is the first's (caller tokens come from it). */
    keycloakNodes: string[];
  }
}

/** Waits until the node's log shows a cluster view of `size` members (Infinispan's ISPN000094 line). */
async function waitForClusterView(node: RunningKeycloak, size: number, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  const view = /ISPN000094: Received new cluster view for channel \S+: (\[[^\]]*\] \((\d+)\) \[[^\]]*\])/g;
  while (Date.now() < deadline) {
    const seen = [...readFileSync(node.logFile, 'utf8').matchAll(view)].at(-1);
    if (seen && Number(seen[2]) >= size) return seen[1] ?? '';
    await sleep(1000);
  }
  throw new Error(`no cluster view of ${size} members in ${node.logFile} within ${timeoutMs} ms`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  let cluster: KeycloakOnPostgres | undefined;
  const onExit = (): void => cluster?.kill();
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    await cluster?.stop();
    process.off('exit', onExit);
    console.log('[cluster] both Keycloak nodes and PostgreSQL stopped');
  };
  try {
    await startKeycloakOnPostgres({ nodes: 2, onStarted: (all) => (cluster = all) });
    const nodes = cluster?.nodes ?? [];
    for (const node of nodes) await waitForRealm(node.url);
    const view = await waitForClusterView(nodes[0] as RunningKeycloak, nodes.length);
    console.log(
      `[cluster] ${nodes.map((node) => node.url).join(' and ')} ready, one cluster ${view}, ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    project.provide('keycloakUrl', nodes[0]?.url ?? '');
    project.provide(
      'keycloakNodes',
      nodes.map((node) => node.url),
    );
    project.provide('keycloakSource', 'local distribution');
    project.provide('keycloakDb', 'postgres');
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}
