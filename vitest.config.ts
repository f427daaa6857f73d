import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'aliases/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/st2-runtime-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
