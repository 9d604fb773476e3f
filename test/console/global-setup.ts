// The browser tests run the console as `npm run build` makes it: built once per run, from the
// sources as they are.
import { buildConsole } from '../../scripts/lib/console-build.js';

export default async function setup(): Promise<void> {
  const started = Date.now();
  await buildConsole();
  console.log(`[console] built into dist/console in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
