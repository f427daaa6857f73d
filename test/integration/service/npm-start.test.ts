import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';

const ENSURE = 'node scripts/ensure.mjs --build';
const BIN = 'node bin/squall.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The README's quick start is `npm start`, and a supervisor (or `kill <pid>`) stops it with SIGTERM
 * to npm. npm forwards the signal to the shell running the script; unless the script execs the
 * server, the shell dies and the server goes on running, orphaned, holding the port.
 */
it('SIGTERM to `npm start` stops the server it started', { timeout: 60_000 }, async () => {
  const script = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts.start;
  expect(script).toContain(ENSURE);
  expect(script).toContain(BIN);
  // The same script, run from the sources: the build step is the first start's cost, not what is tested.
  const fromSources = script.replace(ENSURE, 'true').replace(BIN, 'node --import tsx src/cli/run.ts');
  const { dir, cleanup } = tempDir();
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'npm-start-probe',
      private: true,
      scripts: { start: `cd '${ROOT}' && ${fromSources} --port 0 --data-dir '${dir}/data'` },
    }),
  );
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: dir,
    env: { ...process.env, SQUALL_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let serverPid: number | undefined;
  const output: string[] = [];
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not up in 45 s:\n${output.join('\n')}`)), 45_000);
      for (const stream of [npm.stdout, npm.stderr]) {
        createInterface({ input: stream }).on('line', (line) => {
          output.push(line);
          const pid = /"pid":(\d+)/.exec(line);
          if (pid) serverPid ??= Number(pid[1]);
          const up = /^Squall is up: (\S+)/.exec(line);
          if (up) {
            clearTimeout(timer);
            resolve(up[1]);
          }
        });
      }
      npm.once('exit', (code) =>
        reject(new Error(`npm exited (${code}) before the server was up:\n${output.join('\n')}`)),
      );
    });
    expect(serverPid).toBeGreaterThan(0);
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
    npm.kill('SIGTERM');
    // An idle server exits at once on SIGTERM (README, "Stopping"): 2 s leaves room for a loaded machine.
    const deadline = Date.now() + 2_000;
    while (alive(serverPid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(serverPid!), `server ${serverPid} still running 2 s after SIGTERM to npm`).toBe(false);
    await expect(fetch(`${url}/api/v1/health`)).rejects.toThrow();
  } finally {
    if (serverPid && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    cleanup();
  }
});
