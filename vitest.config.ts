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
    // data dirs and Redis channels are fresh per test. A clean-clone CI run with two took 29 min
    // (2026-12-07, vitest 1,582 s), against 56-59 min with one on the same kind of machine.
    // `npx vitest run --maxWorkers=1` runs the files one at a time again (order-dependent failures).
    maxWorkers: 2,
    globalSetup: ['test/support/st2-runtime-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
