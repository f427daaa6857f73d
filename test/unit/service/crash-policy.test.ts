import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/service-process.js';

// Without a policy, an uncaught exception printed a stack to stderr and ended the process at once:
// running actions were orphaned (their side effects went on, their output was lost, and they were
// `abandoned` after a restart), and the JSON log said nothing. With one, the process logs the error
// at fatal, stops as on SIGTERM, and exits non-zero for its supervisor to restart it.
async function run(
  body: string,
): Promise<{ status: number | null; lines: Array<Record<string, unknown>>; raw: string }> {
  const code = `
    import { createLogger } from './src/log/index.ts';
    import { installCrashPolicy, tolerateRejections } from './src/service/index.ts';
    const logger = createLogger({ level: 'info', format: 'json' });
    const stop = () => new Promise((resolve) => setTimeout(() => { logger.info('service stopped'); resolve(); }, 200));
    installCrashPolicy({ logger, stop, graceMs: 1000 });
    ${body}`;
  // Not spawnSync: a blocked test worker misses vitest's RPC deadlines.
  const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
  const lines = res.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: res.status, lines, raw: res.stdout + res.stderr };
}

describe('an uncaught exception or unhandled rejection', () => {
  it('is logged at fatal naming the error, the service stops as on SIGTERM, and the exit code is 70', async () => {
    const res = await run(
      "setTimeout(() => { throw new TypeError('boom in a timer'); }, 50); setInterval(() => {}, 1000);",
    );
    expect(res.status, res.raw).toBe(70);
    const fatal = res.lines.find((l) => l.level === 60);
    expect(fatal?.msg).toMatch(/^uncaught exception: TypeError: boom in a timer\. Stopping as on SIGTERM/);
    expect((fatal?.err as { stack?: string })?.stack).toMatch(/boom in a timer/);
    expect(res.lines.map((l) => l.msg)).toContain('service stopped');
  });

  it('treats an unhandled rejection the same way', async () => {
    const res = await run("Promise.reject(new Error('lost promise')); setInterval(() => {}, 1000);");
    expect(res.status, res.raw).toBe(70);
    expect(res.lines.find((l) => l.level === 60)?.msg).toMatch(/^unhandled rejection: Error: lost promise\./);
    expect(res.lines.map((l) => l.msg)).toContain('service stopped');
  });

  it('leaves rejections a subsystem declared harmless alone', async () => {
    const res = await run(
      "tolerateRejections((r) => r?.message === 'SQLITE_BUSY'); Promise.reject(new Error('SQLITE_BUSY')); setTimeout(() => logger.info('still serving'), 300);",
    );
    expect(res.status, res.raw).toBe(0);
    expect(res.lines.map((l) => l.msg)).toEqual(['still serving']);
  });
});
