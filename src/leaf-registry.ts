import { SquallError } from './errors.js';

/** An implementation serving the process whose API listens at `apiUrl()`. */
export interface ServesApi {
  apiUrl(): string;
}

/**
 * A late-bound implementation a subsystem registers for its process and a runner looks up: a leaf
 * (it imports nothing that imports the runners) so that a runner can reach the workflow engine,
 * the inquiries service or the chat layer without an import cycle. Several processes may share one
 * test process: each registers with its API URL, and the newest for a URL wins (or the only one).
 */
export interface LeafRegistry<T extends ServesApi> {
  /** Adds it; the function returned takes it out again (the subsystem's stop). */
  register(impl: T): () => void;
  /** The one serving the process whose API listens at `apiUrl` (or the only one), if any. */
  at(apiUrl: string): T | undefined;
  /** The one serving the process a runner context comes from; throws `code` when none. */
  for(ctx: { apiUrl: string; executionId: string }): T;
}

/**
 * What the error says when none serves a runner's process: its `code`, `what` is missing ("workflow
 * engine", whose last word in the plural counts those registered in its context: "engines") and
 * the `subsystem` factory that provides it.
 */
export function leafRegistry<T extends ServesApi>(
  code: string,
  what: string,
  subsystem: string,
): LeafRegistry<T> {
  const countKey = `${what.split(' ').at(-1)}s`;
  const registered: T[] = [];
  const at = (apiUrl: string): T | undefined => {
    const same = registered.filter((r) => r.apiUrl() === apiUrl);
    return same.at(-1) ?? (registered.length === 1 ? registered[0] : undefined);
  };
  return {
    register(impl) {
      registered.push(impl);
      return () => {
        const i = registered.indexOf(impl);
        if (i >= 0) registered.splice(i, 1);
      };
    },
    at,
    for(ctx) {
      const chosen = at(ctx.apiUrl);
      if (!chosen)
        throw new SquallError(
          code,
          `No ${what} runs in this process for execution ${ctx.executionId}: add ${subsystem}() to the service's subsystems`,
          { execution: ctx.executionId, apiUrl: ctx.apiUrl, [countKey]: registered.length },
        );
      return chosen;
    },
  };
}
