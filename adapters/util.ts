/** The few log calls an adapter makes; pino's child loggers fit it. Never pass tokens in. */
export interface AdapterLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** Warnings and errors as JSON lines on stderr (adapters cannot reach Squall's logger from a factory). */
export function consoleLogger(adapter: string): AdapterLogger {
  const line = (level: string, obj: Record<string, unknown>, msg: string) =>
    process.stderr.write(
      JSON.stringify({ level, time: new Date().toISOString(), component: `chat.${adapter}`, ...obj, msg }) +
        '\n',
    );
  return {
    info: () => undefined,
    warn: (obj, msg) => line('warn', obj, msg),
    error: (obj, msg) => line('error', obj, msg),
  };
}

/** A bounded set of keys seen recently: `add` is false for a key already there. */
export class SeenSet {
  private readonly keys = new Set<string>();
  constructor(private readonly max: number) {}

  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value as string);
    return true;
  }
}

/** `work`'s value when it settles within `ms`, else `late` (the work goes on). */
export async function inTime<T>(work: Promise<T>, ms: number): Promise<{ value: T } | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  try {
    return await Promise.race([work.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
