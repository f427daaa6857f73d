import { createRequire } from 'node:module';
import tty from 'node:tty';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoiseDebugColors } from '../../../src/scheduler/debug-loggers.js';

interface Logger {
  (...args: unknown[]): void;
  extend(ns: string, delimiter?: string): Logger;
  useColors: boolean;
  color: string | number;
  log: (...args: unknown[]) => void;
}
const require = createRequire(import.meta.url);
const debug = require('debug') as ((ns: string) => Logger) & {
  enable(ns: string): void;
  disable(): string;
  useColors(): boolean;
  selectColor(ns: string): string | number;
};

describe("Agenda's debug loggers (memoiseDebugColors)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    debug.disable();
  });

  it('ask the terminal for colours once, not at every extend (one per Agenda log line)', () => {
    const parent = debug('squalltest:processor'); // made before, as Agenda's are at import
    const expected = debug.useColors();
    memoiseDebugColors();
    const isatty = vi.spyOn(tty, 'isatty');
    for (let i = 0; i < 5; i++) expect(parent.extend('runOrRetry').useColors).toBe(expected);
    expect(isatty).not.toHaveBeenCalled();
  });

  it('pick the same colour for a namespace as before, once', () => {
    const before = debug.selectColor('squalltest:colour:a');
    memoiseDebugColors();
    expect(debug('squalltest:colour:a').extend('x').extend('y')).toBeTypeOf('function');
    expect(debug.selectColor('squalltest:colour:a')).toBe(before);
    expect(debug('squalltest:colour:a').color).toBe(before);
  });

  it('keep DEBUG working for loggers made before and after', () => {
    memoiseDebugColors();
    const lines: string[] = [];
    const log = debug('squalltest:jobs');
    log.log = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    log.extend('lock')('hidden');
    expect(lines).toEqual([]);
    debug.enable('squalltest:*');
    log.extend('lock')('locked %s', 'job-1');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/squalltest:jobs:lock locked .*job-1/);
  });
});
