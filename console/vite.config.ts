// The reference console's build: console/ into dist/console, served by the service at /console/
// (src/http/console.ts). `npm run build` runs it after the service's own compile.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    // the console's CSP allows scripts and styles from its own origin only: no inline module preload
    modulePreload: { polyfill: false },
  },
});
