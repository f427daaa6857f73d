/**
 * `npm run bench` runs for many minutes and starts servers (Squall, Node-RED, the floors) and child
 * benches; stopped with SIGTERM (a CI timeout, `kill`), it must take them with it, remove its
 * scratch directories and leave the tracked files as they were. A cut-down run (the floors at a
 * tenth of the requests) is stopped while its first server is answering.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

/** The live processes of a session, but its leader (from /proc: zombies left to init do not count). */
function sessionMembers(sid: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === sid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(session) === sid && state !== 'Z')
        out.push(`${entry} ${stat.slice(0, stat.lastIndexOf(')') + 1)}`);
    } catch {
      // Gone while listed.
    }
  }
  return out;
}

const gitStatus = () => execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' });

it(
  'SIGTERM to the bench stops the servers it started, removes its scratch directories and exits 143',
  { timeout: 90_000 },
  async () => {
    const tmp = tempDir('squall-bench-sigterm-');
    const before = gitStatus();
    // Its own session: whatever it starts is found by session id, even once reparented.
    const bench = spawn(process.execPath, [path.join(ROOT, 'bench', 'run.mjs')], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: tmp.dir, SQUALL_BENCH_SCALE: '0.1', SQUALL_BENCH_ONLY: 'floors' },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    bench.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((r) => bench.on('exit', (code) => r(code)));
    const sid = bench.pid!;
    try {
      await waitFor(
        () => /floor\.node_http_202: \d+ at concurrency/.test(stderr) && sessionMembers(sid).length > 0,
        'the first floor server to answer',
        60_000,
      );
      expect(readdirSync(tmp.dir)).not.toEqual([]);
      process.kill(sid, 'SIGTERM');
      expect(await exit, stderr).toBe(143);
      await waitFor(() => sessionMembers(sid).length === 0, 'no process of the bench left', 10_000).catch(
        () => {
          throw new Error(`left running after the bench exited:\n${sessionMembers(sid).join('\n')}`);
        },
      );
      expect(readdirSync(tmp.dir)).toEqual([]);
      expect(gitStatus()).toBe(before);
    } finally {
      // Whatever is left of the bench's group (after a failure above), by its group id.
      try {
        process.kill(-sid, 'SIGKILL');
      } catch {
        // ESRCH: nothing left.
      }
      tmp.cleanup();
    }
  },
);
