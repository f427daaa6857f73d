import { createRequire } from 'node:module';

/** The part of the `debug` package (Agenda's logger) this module touches. */
interface DebugModule {
  useColors(): boolean;
  selectColor(namespace: string): string | number;
}

const MEMOISED = Symbol.for('squall.debug-colors-memoised');

/**
 * Agenda logs through `debug` with `log.extend('runOrRetry')(...)` at every step of every job,
 * and each `extend` builds a new logger, which asks `isatty(stderr)` for its colours: a system
 * call per log line, ~2–3% of a webhook's CPU, for lines that are off unless DEBUG names them.
 * The answer cannot change while the process runs (DEBUG_COLORS is read at start, stderr stays
 * what it is), so it is asked once, and the colour of each namespace is picked once. Agenda's loggers are made when its modules load, so their
 * `extend` cannot be swapped for a cached one from here; this is the part of it that costs.
 */
export function memoiseDebugColors(
  debug: DebugModule = createRequire(import.meta.url)('debug') as DebugModule,
): void {
  const marked = debug as DebugModule & { [MEMOISED]?: true };
  if (marked[MEMOISED]) return;
  marked[MEMOISED] = true;
  const colors = debug.useColors();
  debug.useColors = () => colors;
  // Each extend also hashes its namespace to pick a colour (~1% of a webhook's CPU); Agenda's
  // namespaces are a handful, each picked the same way every time.
  const select = debug.selectColor.bind(debug);
  const picked = new Map<string, string | number>();
  debug.selectColor = (namespace: string) => {
    let color = picked.get(namespace);
    if (color === undefined) {
      color = select(namespace);
      if (picked.size < 1000) picked.set(namespace, color);
    }
    return color;
  };
}
