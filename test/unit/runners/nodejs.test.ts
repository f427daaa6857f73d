import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getRunner } from '../../../src/runners/index.js';
import { typeStrippingFlags } from '../../../src/runners/nodejs.js';
import { MAX_CHANNEL_IN_FLIGHT, MAX_CHANNEL_MESSAGE_BYTES } from '../../../src/runners/json-channel.js';
import { fakeContext } from '../../support/runner-context.js';

const packDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nodepack');
/** The context of a nodejs action of the test pack running `entry_point`. */
const nodeContext = (entry_point: string, more: Partial<Parameters<typeof fakeContext>[0]> = {}) =>
  fakeContext({ runner: 'nodejs', packDir, entry_point, ...more });
const nodejs = getRunner('nodejs')!;

describe('nodejs runner', () => {
  it('runs a default-export function that reads and writes the datastore through the SDK', async () => {
    const ctx = nodeContext('counter.mjs', {
      config: { region: 'eu' },
      actionParameters: { key: 'hits', step: 2 },
    });
    await ctx.datastore.setValue('hits', '40');
    await ctx.datastore.setValue('temp', 'x');
    const res = await nodejs.run(ctx);
    expect(res.status).toBe('succeeded');
    const r = res.result as { result: unknown; stdout: string; stderr: string };
    expect(r.result).toEqual({ before: '40', next: 42, listed: ['tests:hits'], removed: true, region: 'eu' });
    expect(r.stdout).toBe('counter is 42\n');
    expect(r.stderr).toContain('INFO [tests.test_action] counter updated {"next":42}');
    expect(await ctx.datastore.getValue('hits')).toBe('42');
    expect(await ctx.datastore.getValue('shared_hits', { local: false })).toBe('yes');
    expect(await ctx.datastore.getValue('temp')).toBeNull();
    expect(
      ctx.output
        .filter((o) => o.type === 'stdout')
        .map((o) => o.data)
        .join(''),
    ).toBe('counter is 42\n');
  });

  it('runs an exported class with run(params), constructed with the SDK', async () => {
    const ctx = nodeContext('greeter.cjs', { config: { prefix: 'Hi' }, actionParameters: { name: 'Ada' } });
    const res = await nodejs.run(ctx);
    expect(res).toEqual({ status: 'succeeded', result: { result: 'Hi, Ada', stdout: '', stderr: '' } });
  });

  it("runs in the execution's own directory, made for the run and removed after it when left empty", async () => {
    const ctx = nodeContext('cwd.mjs');
    ctx.workDir = path.join(mkdtempSync(path.join(tmpdir(), 'squall-data-')), 'work', ctx.executionId);
    const res = await nodejs.run(ctx);
    expect(res).toEqual({ status: 'succeeded', result: { result: ctx.workDir, stdout: '', stderr: '' } });
    expect(existsSync(ctx.workDir)).toBe(false);
  });

  it('turns a thrown error into a failed result carrying its message', async () => {
    const res = await nodejs.run(nodeContext('throws.mjs'));
    expect(res.status).toBe('failed');
    expect(res.result).toMatchObject({
      result: null,
      error: 'database unreachable',
      stdout: 'about to fail\n',
    });
  });

  it('survives an action that exits the process without a result', async () => {
    const res = await nodejs.run(nodeContext('exits.mjs'));
    expect(res.status).toBe('failed');
    expect((res.result as { error: string }).error).toContain('exited with code 7');
  });

  it('kills an endless loop on timeout', async () => {
    const res = await nodejs.run(nodeContext('spin.mjs', { runnerParameters: { timeout: 1 } }));
    expect(res.status).toBe('timeout');
    expect((res.result as { error: string }).error).toBe('Action failed to complete in 1 seconds');
  }, 15_000);

  it('is canceled through the abort signal', async () => {
    const ctx = nodeContext('spin.mjs');
    const running = nodejs.run(ctx);
    setTimeout(() => ctx.abort.abort(), 300);
    expect((await running).status).toBe('canceled');
  }, 15_000);

  it('runs a .ts entry point where Node strips types, and otherwise refuses it saying why', async () => {
    const ctx = nodeContext('typed.ts', { actionParameters: { n: 21 } });
    if (typeStrippingFlags() === undefined) {
      await expect(nodejs.run(ctx)).rejects.toMatchObject({
        code: 'RUNNER_ENTRY_POINT_UNSUPPORTED',
        message: expect.stringContaining('typed.ts'),
      });
    } else {
      expect((await nodejs.run(ctx)).result).toMatchObject({ result: 42 });
    }
  });

  it('knows which Node versions strip types', () => {
    expect(typeStrippingFlags('20.20.2')).toBeUndefined();
    expect(typeStrippingFlags('22.6.0')).toEqual(['--experimental-strip-types']);
    expect(typeStrippingFlags('23.6.0')).toEqual([]);
  });

  describe('its channel to the service is bounded', () => {
    // The service keeps answering: each case runs another action afterwards.
    const stillAnswers = async (): Promise<void> => {
      const res = await nodejs.run(nodeContext('greeter.cjs', { actionParameters: { name: 'Ada' } }));
      expect(res.status).toBe('succeeded');
    };

    it('process.send is not there: calling it fails the action with an error naming it', async () => {
      const res = await nodejs.run(nodeContext('ipc-send.mjs'));
      expect(res.status).toBe('failed');
      expect((res.result as { error: string }).error).toBe(
        'nodejs action "tests.test_action": process.send is not available (there is no IPC channel); return a result, or use the SDK',
      );
      await stillAnswers();
    });

    /** Runs channel-flood.mjs with `params`: the action fails with `error`; the service still answers. */
    const floodFails = async (params: Record<string, unknown>, error: string | RegExp): Promise<void> => {
      const res = await nodejs.run(nodeContext('channel-flood.mjs', { actionParameters: params }));
      expect(res.status).toBe('failed');
      const said = (res.result as { error: string }).error;
      if (typeof error === 'string') expect(said).toBe(error);
      else expect(said).toMatch(error);
      await stillAnswers();
    };

    it('a line over the limit written to fd 3 fails the action naming it; the line is not kept', async () => {
      await floodFails(
        { mib: MAX_CHANNEL_MESSAGE_BYTES / (1024 * 1024) + 4 },
        /^nodejs action "tests\.test_action" sent a message of more than 67,108,864 bytes on its channel \([\d,]+ read when it was dropped\)/,
      );
    }, 60_000);

    it('a flood of messages the channel does not have fails the action at the first, naming it', async () => {
      await floodFails(
        { junk: true },
        'nodejs action "tests.test_action" sent a message the channel does not have (type "junk")',
      );
    }, 30_000);

    it('a flood of datastore calls is served MAX_CHANNEL_IN_FLIGHT at a time, all answered', async () => {
      const ctx = nodeContext('rpc-flood.mjs', { actionParameters: { calls: 20_000 } });
      await ctx.datastore.setValue('hits', '7');
      const getValue = ctx.datastore.getValue.bind(ctx.datastore);
      let now = 0;
      let most = 0;
      ctx.datastore.getValue = async (...args: Parameters<typeof getValue>) => {
        most = Math.max(most, ++now);
        await new Promise((r) => setTimeout(r, 1));
        try {
          return await getValue(...args);
        } finally {
          now--;
        }
      };
      const res = await nodejs.run(ctx);
      expect(res.status).toBe('succeeded');
      expect((res.result as { result: unknown }).result).toEqual({ calls: 20_000, same: true, first: '7' });
      expect(most).toBe(MAX_CHANNEL_IN_FLIGHT);
    }, 60_000);
  });
});
