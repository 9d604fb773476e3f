import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // npm run test:cluster (vitest.cluster.config.ts) runs those, on a Keycloak cluster of their own;
    // npm run test:console (vitest.console.config.ts) the browser tests, after building the console
    exclude: [...configDefaults.exclude, 'test/cluster/**', 'test/console/**'],
    // One Keycloak for the whole run, started (or found) once.
    globalSetup: ['test/global-setup.ts'],
    // Integration files share that Keycloak and some of its accounts: one file at a time
    // keeps per-account limits and counts deterministic.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
