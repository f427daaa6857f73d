import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, lazyChild } from '../../../src/log/index.js';

function capture(level: string) {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  return { logger: createLogger({ level, format: 'json', destination: stream }), lines };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("an execution run's logger", () => {
  it('writes the run fields and redacts a secret parameter like the parent does', async () => {
    const { logger, lines } = capture('info');
    const run = lazyChild(logger, { execution: 'ex1', action: 'demo.deploy' });
    run.warn({ parameters: { host: 'web1', password: 'hunter2' }, token: 't0k3n' }, 'deploy retried');
    run.error(new Error('boom'));
    await flush();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      execution: 'ex1',
      action: 'demo.deploy',
      msg: 'deploy retried',
      parameters: { host: 'web1', password: '********' },
      token: '********',
    });
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|t0k3n/);
    expect(lines[1]).toMatchObject({ level: 50, execution: 'ex1', msg: 'boom' });
  });

  it('writes nothing below the level the service logs at', async () => {
    const { logger, lines } = capture('warn');
    const run = lazyChild(logger, { execution: 'ex2', action: 'core.noop' });
    run.debug({ step: 1 }, 'detail');
    run.info({ step: 2 }, 'progress');
    run.warn({ step: 3 }, 'odd');
    await flush();
    expect(lines.map((l) => l.msg)).toEqual(['odd']);
    expect(lines[0]).toMatchObject({ execution: 'ex2', action: 'core.noop', step: 3 });
  });
});
