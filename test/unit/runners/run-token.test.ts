import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  groupsCarryingToken,
  newRunToken,
  orphanedGroups,
  RUN_TOKEN_VAR,
} from '../../../src/runners/run-token.js';

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
 * At a start, the runs whose service process is dead are found by their token: it names the
 * service by pid namespace, pid and start time, so a live service's runs are never taken, even
 * when its pid was once another's.
 */
describe.runIf(process.platform === 'linux')('orphanedGroups', () => {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) if (child.pid) process.kill(-child.pid, 'SIGKILL');
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

  it("finds the runs of a dead service (or of a pid now another process's), not a live one's nor another namespace's", async () => {
    const [ns, pid, ticks] = newRunToken().split('.');
    const gone = spawn('true');
    await new Promise((resolve) => gone.on('close', resolve));
    const live = sleeper(newRunToken());
    const ofDead = sleeper(`${ns}.${gone.pid}.${ticks}.run`);
    const pidReused = sleeper(`${ns}.${pid}.${Number(ticks) + 1}.run`);
    const otherNamespace = sleeper(`${Number(ns) + 1}.${gone.pid}.${ticks}.run`);
    const unmarked = sleeper(`run-${pid}`);

    const { groups, unavailable } = await orphanedGroups();
    expect(unavailable).toBeUndefined();
    expect(groups).toContain(ofDead);
    expect(groups).toContain(pidReused);
    expect(groups).not.toContain(live);
    expect(groups).not.toContain(otherNamespace);
    expect(groups).not.toContain(unmarked);
  });
});
