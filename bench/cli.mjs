// CLI start-up: wall time of `squall --help` and `squall execution list` (bin/squall.js, dist/),
// each run after `node -e 0` in the same round so the ratio to a bare Node start survives load.
// `execution list` goes to a port nobody listens on: it loads and runs exactly what it does
// against a server (config, client, the request), minus the server's answer.
// Run alone: node bench/cli.mjs [rounds]
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { emit, percentile } from './lib/loadgen.mjs';
import { freePort, scratchDir } from './lib/proc.mjs';
import { ROOT } from './lib/squall.mjs';

export async function runCli({ rounds = 15 } = {}) {
  const home = scratchDir('squall-bench-cli-');
  const url = `http://127.0.0.1:${await freePort()}`;
  const env = { ...process.env, HOME: home, SQUALL_API_URL: '', NODE_OPTIONS: '' };
  const bin = path.join(ROOT, 'bin', 'squall.js');
  const cases = {
    node_e0: { args: ['-e', '0'], ok: (r) => r.status === 0 },
    help: { args: [bin, '--help'], ok: (r) => r.status === 0 && /Usage: squall/.test(r.stdout) },
    execution_list: {
      args: [bin, 'execution', 'list', '--url', url],
      ok: (r) => /cannot reach Squall/.test(r.stderr),
    },
  };
  const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  try {
    for (let i = 0; i < rounds + 1; i++) {
      for (const [name, c] of Object.entries(cases)) {
        const t0 = performance.now();
        const r = spawnSync(process.execPath, c.args, { cwd: home, env, encoding: 'utf8' });
        const ms = performance.now() - t0;
        if (!c.ok(r))
          throw new Error(`${name}: unexpected result (exit ${r.status}): ${r.stderr.slice(0, 300)}`);
        if (i > 0) times[name].push(ms); // the first round warms the file cache
      }
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  const p = (name, q) =>
    +percentile(
      [...times[name]].sort((a, b) => a - b),
      q,
    ).toFixed(0);
  const load = +os.loadavg()[0].toFixed(2);
  emit({
    name: 'cli.node_e0_ms',
    unit: 'ms',
    p50: p('node_e0', 50),
    p99: p('node_e0', 99),
    n: rounds,
    loadavg: load,
  });
  for (const [name, figure] of [
    ['help', 'cli.help_ms'],
    ['execution_list', 'cli.execution_list_ms'],
  ]) {
    emit({
      name: figure,
      unit: 'ms',
      p50: p(name, 50),
      p99: p(name, 99),
      n: rounds,
      ratio_to_node_e0_p50: +(p(name, 50) / p('node_e0', 50)).toFixed(2),
      loadavg: load,
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href)
  await runCli({ rounds: Number(process.argv[2] ?? 15) });
