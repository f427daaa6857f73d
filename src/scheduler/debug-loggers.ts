import { createRequire } from 'node:module';

/** The parts of the `debug` package (Agenda's logger) this module touches. */
interface DebugLogger {
  (...args: unknown[]): void;
  extend(namespace: string, delimiter?: string): DebugLogger;
}
interface DebugModule {
  init(logger: DebugLogger): void;
}

const CACHED = Symbol.for('squall.debug-extend-cached');

/**
 * Agenda logs through `debug` with `log.extend('runOrRetry')(...)` at every step of every job,
 * and `extend` builds a new logger each time (a colour hash, an `isatty` system call, a copy of
 * the inspect options): ~3% of a webhook's CPU, for lines that are off unless DEBUG names them.
 * Each logger now keeps the children it extended, by name: Agenda's names are fixed strings,
 * so the cache holds a few dozen loggers, and a child behaves as a fresh one would (its enabled
 * state follows DEBUG; its `+Nms` counts from its previous line, as a logger's does).
 */
export function cacheDebugExtend(
  debug: DebugModule = createRequire(import.meta.url)('debug') as DebugModule,
): void {
  const marked = debug as DebugModule & { [CACHED]?: true };
  if (marked[CACHED]) return;
  marked[CACHED] = true;
  const init = debug.init.bind(debug);
  debug.init = (logger: DebugLogger) => {
    init(logger);
    const extend = logger.extend;
    const children = new Map<string, DebugLogger>();
    logger.extend = function (this: DebugLogger, namespace: string, delimiter?: string) {
      const key = `${delimiter ?? ':'}${namespace}`;
      let child = children.get(key);
      if (!child) {
        child = extend.call(this, namespace, delimiter);
        children.set(key, child);
      }
      return child;
    };
  };
}
