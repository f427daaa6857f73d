import { PassThrough } from 'node:stream';
import { afterEach, expect, it, vi } from 'vitest';
import { SquallError } from '../../../src/errors.js';
import { createLogger, warnThrottled } from '../../../src/log/index.js';

afterEach(() => vi.useRealTimers());

function capture() {
  const out = new PassThrough();
  const lines: Array<{ msg: string; code?: string; suppressed?: number; err?: { code?: string } }> = [];
  out.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as never);
  });
  return { logger: createLogger({ level: 'info', format: 'json', destination: out }), lines };
}

it('a flood of one code is logged in full for the first reports, then counted in one line when the interval ends; each code apart, each interval afresh', async () => {
  vi.useFakeTimers();
  const { logger, lines } = capture();
  const warn = warnThrottled(logger, 'peer garbage', { first: 3, intervalMs: 1000 });
  for (let i = 0; i < 50; i++) warn(new SquallError('EVENT_MALFORMED', `bad ${i}`, {}));
  warn(new SquallError('EVENT_HANDLER_FAILED', 'threw', {}));
  warn(new Error('no code'));
  await vi.advanceTimersByTimeAsync(0);
  expect(lines.map((l) => l.err?.code ?? 'none')).toEqual([
    'EVENT_MALFORMED',
    'EVENT_MALFORMED',
    'EVENT_MALFORMED',
    'EVENT_HANDLER_FAILED',
    'none',
  ]);
  await vi.advanceTimersByTimeAsync(1000);
  expect(lines.slice(5)).toEqual([
    expect.objectContaining({
      code: 'EVENT_MALFORMED',
      suppressed: 47,
      msg: 'peer garbage: 47 more EVENT_MALFORMED not logged in the last 1000 ms (the first 3 were)',
    }),
  ]);
  // The next interval logs its first reports in full again.
  warn(new SquallError('EVENT_MALFORMED', 'bad again', {}));
  await vi.advanceTimersByTimeAsync(0);
  expect(lines).toHaveLength(7);
  expect(lines[6]!.err?.code).toBe('EVENT_MALFORMED');
});
