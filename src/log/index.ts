import { pino, type Bindings, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Field names whose values never reach a log line, whatever object they sit in. */
export const REDACTED_FIELDS = [
  'password',
  'sudo_password',
  'passphrase',
  'private_key',
  'token',
  'auth_token',
  'api_key',
  'secret',
  'authorization',
  'x-auth-token',
  'st2-api-key',
  'cookie',
];

const redactPaths = REDACTED_FIELDS.flatMap((f) => [
  f,
  `*.${f}`,
  `*.*.${f}`,
  `headers["${f}"]`,
  `*.headers["${f}"]`,
]);

export interface LogOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  /** Where JSON lines go; defaults to stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pretty =
    options.format === 'pretty' ||
    (options.format !== 'json' && !options.destination && process.stdout.isTTY);
  const base: LoggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid },
    redact: { paths: redactPaths, censor: '********' },
  };
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return options.destination
    ? pino(base, options.destination as unknown as pino.DestinationStream)
    : pino(base);
}

/** A logger that drops everything; for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The levels code that is handed a logger (a run, a runner) writes at. */
export interface LevelLogger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/**
 * `parent.child(bindings)`, made on the first line written at a level the parent lets through.
 * pino serializes (and redacts) a child's bindings when the child is made: per execution run that
 * was ~7% of the bytes allocated on the webhook path, for a run that usually logs nothing.
 */
export function lazyChild(parent: Logger, bindings: Bindings): LevelLogger {
  return new LazyChild(parent, bindings);
}

class LazyChild implements LevelLogger {
  private child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  debug(obj: unknown, msg?: string): void {
    this.write('debug', obj, msg);
  }

  info(obj: unknown, msg?: string): void {
    this.write('info', obj, msg);
  }

  warn(obj: unknown, msg?: string): void {
    this.write('warn', obj, msg);
  }

  error(obj: unknown, msg?: string): void {
    this.write('error', obj, msg);
  }

  private write(level: keyof LevelLogger, obj: unknown, msg: string | undefined): void {
    if (!this.parent.isLevelEnabled(level)) return;
    this.child ??= this.parent.child(this.bindings);
    if (msg === undefined) this.child[level](obj);
    else this.child[level](obj, msg);
  }
}

/** How many reports of one code a throttled warning writes in full per interval (warnThrottled). */
export const THROTTLE_FIRST = 10;
/** The interval over which a throttled warning counts the reports it did not write. */
export const THROTTLE_INTERVAL_MS = 60_000;

/**
 * A warning for reports that someone outside the process can cause at will (a peer publishing on
 * the deployment's Redis): the first `first` of each code per interval are logged in full, the
 * rest counted and logged as one line when the interval ends. One line per report let a peer
 * flooding garbage fill the disk with logs (every process logs every message it hears).
 * Reports are keyed by their `code` (a SquallError's, or Node's / ioredis's), a fixed set.
 */
export function warnThrottled(
  logger: Logger,
  msg: string,
  options: { first?: number; intervalMs?: number } = {},
): (err: unknown) => void {
  const first = options.first ?? THROTTLE_FIRST;
  const intervalMs = options.intervalMs ?? THROTTLE_INTERVAL_MS;
  const windows = new Map<string, { logged: number; dropped: number }>();
  return (err) => {
    const code = codeOf(err);
    let window = windows.get(code);
    if (!window) {
      const opened = { logged: 0, dropped: 0 };
      window = opened;
      windows.set(code, opened);
      // The count is written when the interval ends, even if the flood stopped with it; unref'd,
      // so it keeps no process (or test) alive.
      setTimeout(() => {
        windows.delete(code);
        if (opened.dropped > 0)
          logger.warn(
            { code, suppressed: opened.dropped, interval_ms: intervalMs },
            `${msg}: ${opened.dropped} more ${code} not logged in the last ${intervalMs} ms (the first ${first} were)`,
          );
      }, intervalMs).unref();
    }
    if (window.logged < first) {
      window.logged++;
      logger.warn({ err }, msg);
    } else window.dropped++;
  };
}

function codeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code.slice(0, 100) : 'UNCODED';
}
