import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getRunner } from '../../../src/runners/index.js';
import { boundedLines } from '../../../src/runners/bounded-lines.js';
import { OutputCapture } from '../../../src/runners/output-capture.js';
import { fakeContext } from '../../support/runner-context.js';

const localCmd = getRunner('local-shell-cmd')!;

function writeAction(packDir: string, file: string, lines: string[]): void {
  mkdirSync(path.join(packDir, 'actions'), { recursive: true });
  writeFileSync(path.join(packDir, 'actions', file), lines.join('\n'));
}
const python = getRunner('python-script')!;

/** A Python action `actions/<file>` whose run(self) is `body` (lines, indented here). */
function pythonAction(file: string, body: string[]) {
  const ctx = fakeContext({ runner: 'python-script', entry_point: file });
  writeAction(ctx.action.packDir, file, [
    'from st2common.runners.base_action import Action',
    'class A(Action):',
    '    def run(self):',
    ...body.map((l) => `        ${l}`),
    '',
  ]);
  return ctx;
}

// A command that never stops printing (`yes`, `tail -f`) was held whole in memory, streamed into
// the store and stored again as its result: 15 s of `yes` gave a 394 MB result and 1.8 GB of RSS.
describe('output kept per execution', () => {
  it('keeps the beginning and the last 64 KiB of a stream past the limit, saying what was dropped', async () => {
    const limit = 1024 * 1024;
    const ctx = fakeContext({
      runner: 'local-shell-cmd',
      runnerParameters: { cmd: 'seq 1 2000000; echo the-last-line >&1; echo err-end >&2' },
    });
    ctx.maxOutputChars = limit;
    const res = await localCmd.run(ctx);
    const stdout = (res.result as { stdout: string }).stdout;
    expect(res.status).toBe('succeeded');
    expect(stdout.length).toBeLessThan(limit + 300);
    expect(stdout.startsWith('1\n2\n3\n')).toBe(true);
    expect(stdout.endsWith('2000000\nthe-last-line')).toBe(true);
    const dropped =
      /\[squall: ([\d,]+) characters of stdout were dropped here: more than executions\.max_output_chars \(1,048,576\) in all\]/.exec(
        stdout,
      );
    expect(dropped).not.toBeNull();
    // seq 1 2000000 prints 14,888,896 characters, plus the last line.
    expect(Number(dropped![1].replace(/,/g, '')) + limit).toBe(14_888_896 + 'the-last-line\n'.length);
    expect((res.result as { stderr: string }).stderr).toBe('err-end');
    // What was streamed is what was kept: the store does not get the dropped middle either.
    const streamed = ctx.output
      .filter((o) => o.type === 'stdout')
      .map((o) => o.data)
      .join('');
    expect(streamed.length).toBe(stdout.length + 1);
  });

  it('keeps everything under the limit, and everything with 0 (no limit)', async () => {
    for (const limit of [1024 * 1024, 0]) {
      const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: 'seq 1 100000' } });
      ctx.maxOutputChars = limit;
      const stdout = ((await localCmd.run(ctx)).result as { stdout: string }).stdout;
      expect(stdout.length).toBe(588_894);
      expect(stdout).not.toContain('[squall:');
    }
    const ctx = fakeContext({ runner: 'local-shell-cmd', runnerParameters: { cmd: 'seq 1 2000000' } });
    ctx.maxOutputChars = 0;
    expect(((await localCmd.run(ctx)).result as { stdout: string }).stdout.length).toBe(14_888_895);
  });

  it('bounds what a Python action prints without touching its result', async () => {
    const ctx = fakeContext({ runner: 'python-script', entry_point: 'spam.py' });
    writeAction(ctx.action.packDir, 'spam.py', [
      'from st2common.runners.base_action import Action',
      'class Spam(Action):',
      '    def run(self):',
      '        for i in range(200000):',
      "            print('line %d of a chatty action' % i)",
      "        return {'ok': True}",
      '',
    ]);
    ctx.maxOutputChars = 256 * 1024;
    const res = await python.run(ctx);
    const result = res.result as { result: unknown; stdout: string };
    expect(res.status).toBe('succeeded');
    expect(result.result).toEqual({ ok: true });
    expect(result.stdout.length).toBeLessThan(256 * 1024 + 300);
    expect(result.stdout).toContain('line 0 of a chatty action');
    expect(result.stdout).toContain('line 199999 of a chatty action');
    expect(result.stdout).toMatch(/characters of stdout were dropped here/);
  });

  it("fails a Python action whose result is over the channel's limit, with the reason, and nothing thrown", async () => {
    // It returned a 600 MB string: readline grew one line until V8's string limit threw in the
    // stream's handler (an uncaught exception in the service) and the execution failed with no reason.
    const ctx = pythonAction('big.py', ["return 'x' * (65 * 1024 * 1024)"]);
    const res = await python.run(ctx);
    expect(res.status).toBe('failed');
    expect((res.result as { error: string }).error).toMatch(
      /^python action "tests\.test_action" sent a message of more than 67,108,864 bytes on its channel \([\d,]+ read when it was dropped\)/,
    );
  });

  it('answers a flood of datastore calls from a Python action in order, one at a time, and stops one that writes junk on fd 3', async () => {
    const ctx = pythonAction('flood.py', [
      'for i in range(2000):',
      "    self.action_service.set_value('n', str(i))",
      "return self.action_service.get_value('n')",
    ]);
    const res = await python.run(ctx);
    expect(res.status, JSON.stringify(res.result)).toBe('succeeded');
    expect((res.result as { result: unknown }).result).toBe('1999');

    const junk = pythonAction('junk.py', [
      'import os',
      'while True:',
      '    os.write(3, b\'{"type": "junk"}\\n\' * 1000)',
    ]);
    const stopped = await python.run(junk);
    expect(stopped.status).toBe('failed');
    expect((stopped.result as { error: string }).error).toBe(
      'python action "tests.test_action" sent a message the channel does not have (type "junk")',
    );
  }, 60_000);

  it("fails a nodejs action whose result is over the channel's limit, with the reason, and the service's memory untouched", async () => {
    // It returned a 500 MB string: the service parsed the whole IPC message (1.75 GB of RSS, 13 s)
    // and stored it; a little more and V8's string limit threw inside the channel's reader.
    const ctx = fakeContext({ runner: 'nodejs', entry_point: 'big.mjs' });
    writeAction(ctx.action.packDir, 'big.mjs', [
      "export default async function () { return 'x'.repeat(65 * 1024 * 1024); }",
      '',
    ]);
    const before = process.memoryUsage().rss;
    const res = await getRunner('nodejs')!.run(ctx);
    expect(res.status).toBe('failed');
    expect((res.result as { error: string }).error).toMatch(
      /^the action's result was more than 67,108,864 bytes as JSON \(68,157,442 bytes\)/,
    );
    expect((res.result as { result: unknown }).result).toBeNull();
    expect(process.memoryUsage().rss - before).toBeLessThan(60 * 1024 * 1024);
  }, 60_000);

  it('splits channel lines and drops only the one over the limit', async () => {
    const { PassThrough } = await import('node:stream');
    const stream = new PassThrough();
    const lines: string[] = [];
    const over: number[] = [];
    boundedLines(
      stream,
      8,
      (l) => lines.push(l),
      (n) => over.push(n),
    );
    stream.write('ab\ncd');
    stream.write('ef\n0123456789abc');
    stream.write('def\nok\r\n12345678\n123456789\nlast');
    stream.end();
    await new Promise((r) => stream.on('end', r));
    expect(lines).toEqual(['ab', 'cdef', 'ok', '12345678', 'last']);
    expect(over).toEqual([13, 9]);
  });

  it('splits a chunk that crosses the limit and streams the held-back end once', () => {
    const seen: string[] = [];
    const capture = new OutputCapture('stdout', 10, (_t, text) => seen.push(text));
    capture.add('abcdefgh');
    capture.add('ijklmnop');
    capture.add('qrstuvwxyz');
    const kept = capture.finish();
    expect(kept).toBe(
      'abcde\n[squall: 16 characters of stdout were dropped here: more than executions.max_output_chars (10) in all]\nvwxyz',
    );
    expect(seen.join('')).toBe(kept);
  });
});
