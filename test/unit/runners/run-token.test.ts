import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { groupsCarryingToken, RUN_TOKEN_VAR } from '../../../src/runners/run-token.js';

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
