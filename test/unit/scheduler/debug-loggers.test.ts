import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheDebugExtend } from '../../../src/scheduler/debug-loggers.js';

interface Logger {
  (...args: unknown[]): void;
  extend(ns: string, delimiter?: string): Logger;
  enabled: boolean;
  namespace: string;
  log: (...args: unknown[]) => void;
}
const debug = createRequire(import.meta.url)('debug') as ((ns: string) => Logger) & {
  enable(ns: string): void;
  disable(): string;
};

describe('Agenda debug loggers (cacheDebugExtend)', () => {
  afterEach(() => {
    debug.disable();
  });

  it('extends a logger once per name instead of building a new one per log line', () => {
    cacheDebugExtend();
    const log = debug('squalltest:processor');
    const first = log.extend('runOrRetry');
    expect(log.extend('runOrRetry')).toBe(first);
    expect(log.extend('drain')).not.toBe(first);
    expect(log.extend('runOrRetry', '/')).not.toBe(first);
    expect(first.namespace).toBe('squalltest:processor:runOrRetry');
  });

  it('keeps DEBUG working: a cached child follows enable/disable and writes to its logger', () => {
    cacheDebugExtend();
    const lines: string[] = [];
    const log = debug('squalltest:jobs');
    log.log = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    const child = log.extend('lock');
    child('hidden');
    expect(lines).toEqual([]);
    debug.enable('squalltest:*');
    log.extend('lock')('locked %s', 'job-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/squalltest:jobs:lock locked .* job-1/);
    debug.disable();
    log.extend('lock')('hidden again');
    expect(lines).toHaveLength(1);
  });
});
