// The reference console (console/, SPEC §8) built into dist/console with Vite's own API: by
// `npm run build` (through the vite CLI), by `npm run dev` when the build is missing or older than
// its sources, and by the browser tests' global setup.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './keycloak-local.js';

export const consoleSources = [
  join(projectRoot, 'console'),
  join(projectRoot, 'clients', 'typescript', 'src'),
];
export const consoleBuildDir = join(projectRoot, 'dist', 'console');
const viteConfig = join(projectRoot, 'console', 'vite.config.ts');

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path)
    .filter((name) => name !== 'node_modules')
    .reduce((newest, name) => Math.max(newest, newestChange(join(path, name))), stat.mtimeMs);
}

/** True when dist/console is missing or a source file changed after it was built. */
export function consoleBuildStale(): boolean {
  const index = join(consoleBuildDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return consoleSources.some((dir) => existsSync(dir) && newestChange(dir) > built);
}

export async function buildConsole(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: viteConfig, logLevel: 'warn' });
}
