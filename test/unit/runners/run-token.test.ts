import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  groupsCarryingToken,
  killOrphans,
  newRunToken,
  noteRunEnded,
  noteRunStarted,
  RUN_TOKEN_VAR,
  trackRunsIn,
} from '../../../src/runners/run-token.js';
import { processExists } from '../../support/processes.js';
import { waitFor } from '../../support/wait.js';

/**
 * A run the spawner never reported the pid of is found by the token in its processes' environment
 * (Linux /proc). Only the exact token counts, wherever it sits in the environment.
 */
describe.runIf(process.platform === 'linux')('groupsCarryingToken', () => {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) if (child.pid) process.kill(-child.pid, 'SIGKILL');
  });

  const sleeper = (env: Record<string, string>): number => {
    const child = spawn('sleep', ['30'], { env, detached: true, stdio: 'ignore' });
    started.push(child);
    return child.pid!;
  };

  it('finds the group of each process carrying the token, first in its environment or not, and no other', async () => {
    const token = `t-${process.pid}-${Date.now()}`;
    const first = sleeper({ [RUN_TOKEN_VAR]: token, PATH: process.env.PATH ?? '' });
    const later = sleeper({ PATH: process.env.PATH ?? '', [RUN_TOKEN_VAR]: token });
    const longer = sleeper({ PATH: process.env.PATH ?? '', [RUN_TOKEN_VAR]: `${token}x` });
    const other = sleeper({ PATH: process.env.PATH ?? '', OTHER: `${RUN_TOKEN_VAR}=${token}` });

    const { groups, unavailable } = await groupsCarryingToken(token);
    expect(unavailable).toBeUndefined();
    expect(groups.sort()).toEqual([first, later].sort());
    expect(groups).not.toContain(longer);
    expect(groups).not.toContain(other);
  });

  it('finds nothing once the processes are gone', async () => {
    const token = `gone-${process.pid}-${Date.now()}`;
    const child = spawn('true', [], { env: { [RUN_TOKEN_VAR]: token, PATH: process.env.PATH ?? '' } });
    await new Promise((resolve) => child.on('close', resolve));
    expect((await groupsCarryingToken(token)).groups).toEqual([]);
  });
});

/**
 * At a start, the runs that were in flight when their service died are killed: noted in the runs
 * directory by a service process (pid namespace, pid, start time) that no longer runs. A live
 * service's runs, another namespace's, and what a run that ended left running are not.
 */
describe.runIf(process.platform === 'linux')('killOrphans', () => {
  const started: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of started.splice(0))
      if (child.pid && processExists(child.pid)) process.kill(-child.pid, 'SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const sleeper = (token: string): number => {
    const child = spawn('sleep', ['30'], {
      env: { PATH: process.env.PATH ?? '', [RUN_TOKEN_VAR]: token },
      detached: true,
      stdio: 'ignore',
    });
    started.push(child);
    return child.pid!;
  };

  it("kills the groups of runs in flight when their service died (or a pid now another process's), and forgets them; no other", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'squall-runs-'));
    dirs.push(dir);
    trackRunsIn(dir);
    const [ns, pid, ticks] = newRunToken().split('.');
    const gone = spawn('true');
    await new Promise((resolve) => gone.on('close', resolve));
    const tokens = {
      ofDead: `${ns}.${gone.pid}.${ticks}.a`,
      pidReused: `${ns}.${pid}.${Number(ticks) + 1}.b`,
      live: newRunToken(),
      otherNamespace: `${Number(ns) + 1}.${gone.pid}.${ticks}.c`,
      endedOfDead: `${ns}.${gone.pid}.${ticks}.d`,
    };
    const pids = Object.fromEntries(Object.entries(tokens).map(([k, t]) => [k, sleeper(t)]));
    for (const [k, token] of Object.entries(tokens)) if (k !== 'endedOfDead') noteRunStarted(token);

    const { runs, groups, unavailable } = await killOrphans(100);
    expect(unavailable).toBeUndefined();
    expect(runs).toBe(2);
    expect(groups.sort()).toEqual([pids.ofDead, pids.pidReused].sort());
    await waitFor(
      () => !processExists(pids.ofDead) && !processExists(pids.pidReused),
      'the orphans to go',
      3_000,
      20,
    );
    for (const k of ['live', 'otherNamespace', 'endedOfDead']) expect(processExists(pids[k]), k).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([tokens.live, tokens.otherNamespace].sort());
    noteRunEnded(tokens.live);
    noteRunEnded(tokens.otherNamespace);
    expect(readdirSync(dir)).toEqual([]);
  });
});
