// npm run test:console: the reference console in a real browser (Debian's chromium through
// playwright-core) against the service and a real Keycloak. Builds the console first.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/console/**/*.test.ts'],
    // the run's Keycloak (test/global-setup.ts), then the console's build
    globalSetup: ['test/global-setup.ts', 'test/console/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
