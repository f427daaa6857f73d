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

/**
 * `npm test` and `npm run bench` end the same way as `npm start`: their last command is exec'd,
 * so a SIGTERM to npm reaches vitest / the bench instead of orphaning it. The probe runs each
 * script with its last command swapped for a process that only prints its pid and waits (the
 * real ones take minutes), keeping the script's own shell form.
 */
it.each([
  ['test', 'vitest run'],
  ['bench', 'node bench/run.mjs'],
])('SIGTERM to `npm %s` stops its last command', { timeout: 30_000 }, async (name, last) => {
  const script = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts[name];
  expect(script).toMatch(/^node scripts\/ensure\.mjs/);
  expect(script).toContain(last);
  const waiter = `node -e 'console.log("pid=" + process.pid); setInterval(() => {}, 1000)'`;
  const probe = script.replace(/^node scripts\/ensure\.mjs( --build)?/, 'true').replace(last, waiter);
  const { dir, cleanup } = tempDir();
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'npm-script-probe', private: true, scripts: { [name]: probe } }),
  );
  const npm = spawn('npm', ['run', name, '--silent'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let pid: number | undefined;
  try {
    pid = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the probe printed no pid in 20 s')), 20_000);
      createInterface({ input: npm.stdout }).on('line', (line) => {
        const m = /^pid=(\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    npm.kill('SIGTERM');
    const deadline = Date.now() + 2_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid), `\`npm ${name}\`'s last command (${pid}) still running 2 s after SIGTERM to npm`).toBe(
      false,
    );
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    cleanup();
  }
});
