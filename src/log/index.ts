import { pino, type Logger, type LoggerOptions } from 'pino';

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
