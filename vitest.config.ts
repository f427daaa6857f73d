import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'aliases/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two forks, not vitest's default of cores - 1 (one fork on CI's 2-core machine, where the
    // files ran one after another with the CPU ~75% busy and the suite took 56-59 min of a 60 min
    // limit). Shared state between files is made safe for this: venvs under .cache and the web UI
    // build are created under a cross-process lock (test/support/cache-lock.ts), databases and
    // data dirs are fresh per test. LEAD: measured CI wall time with two workers: ___ (was 56-59 min).
    // `npx vitest run --maxWorkers=1` runs the files one at a time again (order-dependent failures).
    maxWorkers: 2,
    globalSetup: ['test/support/st2-runtime-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
