import type { Logger } from '../log/index.js';

/**
 * What the process does with an exception nobody caught or a rejection nobody handled.
 *
 * Node's default prints the stack to stderr and exits at once: running actions were left to run
 * on as orphans (their output lost, recorded as `abandoned` only after a restart), and the log held
 * no structured record of why. The state of a process after an uncaught error is unknown, so it
 * does not go on serving: it logs the error at `fatal` (pino, naming it), stops as on SIGTERM
 * (running actions get `executions.shutdown_grace_ms`, then are killed and recorded, queued work
 * stays queued for another process), and exits with code 70 (EX_SOFTWARE) so that a supervisor
 * (systemd `Restart=on-failure`, Kubernetes, `npm start` under one) starts it again. When stopping
 * itself hangs, the process exits anyway after the grace plus 15 s.
 */
export const CRASH_EXIT_CODE = 70;

/** Rejections that the code that made them knows to be harmless (see tolerateRejections). */
const tolerated = new Set<(reason: unknown) => boolean>();
let installed = false;

/**
 * Marks unhandled rejections that `predicate` accepts as harmless (it may log them); returns the
 * undo. Used by subsystems whose background libraries leave rejections nobody awaits.
 */
export function tolerateRejections(predicate: (reason: unknown) => boolean): () => void {
  tolerated.add(predicate);
  return () => tolerated.delete(predicate);
}

/** Whether the process-wide policy decides about unhandled rejections (start installs it). */
export function crashPolicyInstalled(): boolean {
  return installed;
}

export interface CrashPolicyOptions {
  logger: Logger;
  /** Stops the service as SIGTERM does; undefined before the service is up. */
  stop: () => Promise<void> | undefined;
  /** How long running actions get (executions.shutdown_grace_ms). */
  graceMs: number;
  exit?: (code: number) => void;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  try {
    return `non-error value ${JSON.stringify(err)?.slice(0, 200)}`;
  } catch {
    return `non-error value ${String(err)}`;
  }
}

/** Installs the policy on `process`; returns the undo (for tests). */
export function installCrashPolicy(options: CrashPolicyOptions): () => void {
  const { logger } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let dying: unknown[] | undefined;
  const die = (err: unknown, origin: string): void => {
    if (dying) {
      // The same rejection re-thrown by another listener is not news.
      if (!dying.includes(err))
        logger.error({ err, origin }, `${origin} while stopping after a fatal error: ${describe(err)}`);
      return;
    }
    dying = [err];
    logger.fatal(
      { err, origin },
      `${origin}: ${describe(err)}. Stopping as on SIGTERM (running actions get ${options.graceMs} ms), then exiting with code ${CRASH_EXIT_CODE} for the supervisor to restart the process`,
    );
    const hard = setTimeout(() => {
      logger.fatal(`did not stop within ${options.graceMs + 15_000} ms after the fatal error: exiting now`);
      exit(CRASH_EXIT_CODE);
    }, options.graceMs + 15_000);
    Promise.resolve()
      .then(() => options.stop())
      .catch((stopErr: unknown) => logger.error({ err: stopErr }, 'error while stopping after a fatal error'))
      .finally(() => {
        clearTimeout(hard);
        exit(CRASH_EXIT_CODE);
      });
  };
  const onException = (err: unknown, origin: string): void =>
    die(err, origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception');
  const onRejection = (reason: unknown): void => {
    for (const harmless of tolerated) if (harmless(reason)) return;
    die(reason, 'unhandled rejection');
  };
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  installed = true;
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
    installed = false;
  };
}
