import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getRunner } from '../../../src/runners/index.js';
import { processExists as alive } from '../../support/processes.js';
import { fakeContext } from '../../support/runner-context.js';

const localCmd = getRunner('local-shell-cmd')!;
const localScript = getRunner('local-shell-script')!;

async function waitGone(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    if (pids.every((p) => !alive(p))) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return pids.filter(alive);
}

function writeScript(packDir: string, name: string, body: string, mode = 0o755): void {
  mkdirSync(path.join(packDir, 'actions'), { recursive: true });
  const file = path.join(packDir, 'actions', name);
  writeFileSync(file, body);
  chmodSync(file, mode);
}

describe('local-shell-cmd', () => {
  it('runs a command and reports its stdout as succeeded', async () => {
    const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: 'echo hi' } });
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('succeeded');
    expect(res.result).toEqual({ failed: false, succeeded: true, return_code: 0, stdout: 'hi', stderr: '' });
  });

  it('reports a non-zero exit as failed with its return code', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { cmd: 'echo oops >&2; exit 3' },
    });
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('failed');
    expect(res.result).toMatchObject({ failed: true, succeeded: false, return_code: 3, stderr: 'oops' });
  });

  it('JSON-decodes stdout that parses', async () => {
    const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: `echo '{"a": [1, 2]}'` } });
    const res = await localCmd.run(ctx);
    expect((res.result as { stdout: unknown }).stdout).toEqual({ a: [1, 2] });
  });

  it('streams output chunks through onOutput as they arrive', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { cmd: 'echo one; echo two >&2' },
    });
    await localCmd.run(ctx);
    expect(
      ctx.output
        .filter((o) => o.type === 'stdout')
        .map((o) => o.data)
        .join(''),
    ).toBe('one\n');
    expect(
      ctx.output
        .filter((o) => o.type === 'stderr')
        .map((o) => o.data)
        .join(''),
    ).toBe('two\n');
  });

  it('passes env, cwd and the ST2_ACTION_* variables', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: {
        cmd: 'echo "$GREETING|$(pwd)|$ST2_ACTION_PACK_NAME|$ST2_ACTION_EXECUTION_ID"',
        env: { GREETING: 'hello' },
        cwd: '/tmp',
      },
    });
    const res = await localCmd.run(ctx);
    expect((res.result as { stdout: unknown }).stdout).toBe(`hello|/tmp|tests|${ctx.executionId}`);
  });

  it("runs without cwd in the execution's own directory, and removes it after when the command left it empty", async () => {
    const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: 'pwd; ls -A | wc -l' } });
    // As in the service: data_dir/work/<execution id>, neither made in advance.
    ctx.workDir = path.join(mkdtempSync(path.join(tmpdir(), 'squall-data-')), 'work', ctx.executionId);
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('succeeded');
    expect((res.result as { stdout: unknown }).stdout).toBe(`${ctx.workDir}\n0`);
    expect(existsSync(ctx.workDir)).toBe(false);
    // The next run finds `work` in place; what a command leaves there stays.
    const next = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: 'echo kept > out.txt' } });
    next.workDir = path.join(path.dirname(ctx.workDir), next.executionId);
    expect((await localCmd.run(next)).status).toBe('succeeded');
    expect(readdirSync(next.workDir)).toEqual(['out.txt']);
    expect(readdirSync(path.dirname(ctx.workDir))).toEqual([next.executionId]);
  });

  it('fails naming the working directory it could not make, and runs nothing', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'squall-data-'));
    writeFileSync(path.join(parent, 'work'), 'a file where the work directory should be');
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { cmd: 'echo ran > /dev/stderr' },
    });
    ctx.workDir = path.join(parent, 'work', ctx.executionId);
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('failed');
    expect((res.result as { error: string }).error).toContain(
      `could not start the action process: could not create the working directory ${ctx.workDir}`,
    );
    expect(ctx.output).toEqual([]);
  });

  it('does not leak the service environment into actions', async () => {
    process.env.SQUALL_TEST_SECRET = 'do-not-leak';
    try {
      const ctx = fakeContext({
        runner: 'local-shell-cmd',
        runnerParameters: { cmd: 'echo "<${SQUALL_TEST_SECRET:-}>"' },
      });
      const res = await localCmd.run(ctx);
      expect((res.result as { stdout: unknown }).stdout).toBe('<>');
    } finally {
      delete process.env.SQUALL_TEST_SECRET;
    }
  });

  it('times out, kills the whole process group and says so', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { timeout: 1, cmd: 'sleep 30 & echo "$! $$" > pids; sleep 30' },
    });
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('timeout');
    expect(res.result).toMatchObject({
      failed: true,
      succeeded: false,
      return_code: -9,
      error: 'Action failed to complete in 1 seconds',
    });
    const pids = readFileSync(path.join(ctx.workDir, 'pids'), 'utf8').trim().split(' ').map(Number);
    expect(pids).toHaveLength(2);
    expect(await waitGone(pids)).toEqual([]);
  }, 15_000);

  it('is canceled through the abort signal, killing the process group', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { cmd: 'sleep 30 & echo "$! $$" > pids; echo started; sleep 30' },
    });
    const running = localCmd.run(ctx);
    for (let i = 0; i < 100 && !ctx.output.some((o) => o.data.includes('started')); i++)
      await new Promise((r) => setTimeout(r, 50));
    ctx.abort.abort();
    const res = await running;
    expect(res.status).toBe('canceled');
    expect(res.result).toMatchObject({ failed: true, succeeded: false, stdout: 'started' });
    const pids = readFileSync(path.join(ctx.workDir, 'pids'), 'utf8').trim().split(' ').map(Number);
    expect(await waitGone(pids)).toEqual([]);
  }, 15_000);

  it('is canceled as it starts, before its pid is known, and its process is still killed', async () => {
    // A duration no other process uses, to find the command's process by its command line.
    const marker = `29.${process.pid}${Date.now() % 100000}`;
    const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: `sleep ${marker}` } });
    const running = localCmd.run(ctx);
    ctx.abort.abort();
    const res = await running;
    expect(res.status).toBe('canceled');
    const withMarker = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
          } catch {
            return false;
          }
        });
    expect(await waitGone(withMarker())).toEqual([]);
    // And nothing was started after the check: the kill reached the process, not a stale pid.
    await new Promise((r) => setTimeout(r, 200));
    expect(withMarker().filter(alive)).toEqual([]);
  }, 15_000);

  it('reports a process killed by SIGTERM from outside as abandoned', async () => {
    const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: 'kill -TERM $$' } });
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('abandoned');
    expect((res.result as { return_code: number }).return_code).toBe(-15);
  });

  it('runs through `sudo -E -- bash -c` and pipes sudo_password on stdin', async () => {
    // A stand-in sudo on PATH records how it was called, then runs the command itself.
    const bin = fakeContext({ runner: 'noop' }).workDir;
    writeFileSync(
      path.join(bin, 'sudo'),
      '#!/bin/bash\nread -r pw\necho "args=$*" >&2\necho "pw=$pw" >&2\nshift 5\nexec "$@"\n',
    );
    chmodSync(path.join(bin, 'sudo'), 0o755);
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
      runnerParameters: { cmd: 'echo as-root', sudo: true, sudo_password: 's3cret' },
    });
    const res = await localCmd.run(ctx);
    expect(res.status).toBe('succeeded');
    expect(res.result).toMatchObject({
      stdout: 'as-root',
      stderr: 'args=-S -p  -E -- bash --norc --noprofile -c echo as-root\npw=s3cret',
    });
  });

  it('rejects a parameter larger than 128 KB before running anything', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { cmd: `echo ${'x'.repeat(140 * 1024)}` },
    });
    await expect(localCmd.run(ctx)).rejects.toMatchObject({
      code: 'RUNNER_PARAMETER_TOO_LARGE',
      message: expect.stringContaining('"cmd"'),
    });
  });

  it('names the missing cmd parameter', async () => {
    const ctx = fakeContext({ runner: 'local-shell-cmd' });
    await expect(localCmd.run(ctx)).rejects.toMatchObject({
      code: 'RUNNER_PARAMETER_MISSING',
      message: expect.stringContaining('"cmd"'),
    });
  });
});

describe('local-shell-script', () => {
  const printArgs = '#!/usr/bin/env bash\nfor a in "$@"; do printf "<%s>\\n" "$a"; done\n';

  it('passes named parameters as --name=value and positional ones in order with st2 serialisation', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-script',
      entry_point: 'args.sh',
      parameters: {
        first: { type: 'string', position: 0 },
        flag: { type: 'boolean', position: 1 },
        list: { type: 'array', position: 2 },
        obj: { type: 'object', position: 3 },
        missing: { type: 'string', position: 4 },
        count: { type: 'integer', position: 5 },
        name: { type: 'string' },
        verbose: { type: 'boolean' },
        quiet: { type: 'boolean' },
        empty: { type: 'string' },
      },
      actionParameters: {
        first: 'hello world',
        flag: true,
        list: ['a', 'b', 3],
        obj: { k: 'v' },
        count: 0,
        name: "it's $HOME",
        verbose: true,
        quiet: false,
        empty: '',
      },
    });
    writeScript(ctx.action.packDir, 'args.sh', printArgs);
    const res = await localScript.run(ctx);
    expect(res.status).toBe('succeeded');
    expect((res.result as { stdout: string }).stdout.split('\n')).toEqual([
      `<--name=it's $HOME>`,
      '<--verbose>',
      '<hello world>',
      '<1>',
      '<a,b,3>',
      '<{"k":"v"}>',
      '<>',
      '<0>',
    ]);
  });

  it('honours a custom kwarg_op and false booleans in positions', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-script',
      entry_point: 'args.sh',
      runnerParameters: { kwarg_op: '-' },
      parameters: { on: { type: 'boolean', position: 0 }, key: { type: 'string' } },
      actionParameters: { on: false, key: 'v' },
    });
    writeScript(ctx.action.packDir, 'args.sh', printArgs);
    const res = await localScript.run(ctx);
    expect((res.result as { stdout: string }).stdout.split('\n')).toEqual(['<-key=v>', '<0>']);
  });

  it('runs a script without the executable bit through its shebang', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-script',
      entry_point: 'plain.sh',
      parameters: { who: { type: 'string', position: 0 } },
      actionParameters: { who: 'you' },
    });
    writeScript(ctx.action.packDir, 'plain.sh', '#!/bin/bash\necho "hi $1"\nexit 1\n', 0o644);
    const res = await localScript.run(ctx);
    expect(res.status).toBe('failed');
    expect(res.result).toMatchObject({ return_code: 1, stdout: 'hi you' });
  });

  it("removes the execution's empty directory when the script's interpreter does not exist", async () => {
    const ctx = fakeContext({ runner: 'local-shell-script', entry_point: 'missing-interp.sh' });
    writeScript(ctx.action.packDir, 'missing-interp.sh', '#!/nonexistent/interpreter\necho hi\n', 0o644);
    ctx.workDir = path.join(mkdtempSync(path.join(tmpdir(), 'squall-data-')), 'work', ctx.executionId);
    const res = await localScript.run(ctx);
    expect(res.status).toBe('failed');
    expect((res.result as { error: string }).error).toContain('ENOENT');
    expect(existsSync(ctx.workDir)).toBe(false);
  });

  it('names a missing entry point file', async () => {
    const ctx = fakeContext({ runner: 'local-shell-script', entry_point: 'nope.sh' });
    await expect(localScript.run(ctx)).rejects.toMatchObject({
      code: 'RUNNER_ENTRY_POINT_NOT_FOUND',
      message: expect.stringContaining('nope.sh'),
    });
  });

  it('rejects an argument over 128 KB naming the parameter', async () => {
    const ctx = fakeContext({
      runner: 'local-shell-script',
      entry_point: 'args.sh',
      parameters: { blob: { type: 'string' } },
      actionParameters: { blob: 'x'.repeat(129 * 1024) },
    });
    writeScript(ctx.action.packDir, 'args.sh', printArgs);
    await expect(localScript.run(ctx)).rejects.toMatchObject({
      code: 'RUNNER_PARAMETER_TOO_LARGE',
      message: expect.stringContaining('"blob"'),
    });
  });
});

describe('noop', () => {
  it('returns the static successful result', async () => {
    const res = await getRunner('noop')!.run(fakeContext({ runner: 'noop' }));
    expect(res).toEqual({ status: 'succeeded', result: { failed: false, succeeded: true, return_code: 0 } });
  });
});
