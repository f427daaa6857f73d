import { liveExecutions } from '../executions/index.js';
import type { Services } from '../service/index.js';

/** Statuses of executions that wait for a runner: the queue. */
export const QUEUED_STATUSES = ['requested', 'scheduled', 'delayed'] as const;

/**
 * How many executions wait for a runner, as this process knows it: re-counted from the store
 * every `backpressure.refresh_ms`, and bumped locally between counts for the requests this
 * process accepts — so admission control costs a number read, never a store query per request.
 */
export class QueueDepth {
  private counted = 0;
  private since = 0;
  private refreshedAt?: Date;
  private timer?: NodeJS.Timeout;
  private refreshing?: Promise<void>;
  /** Highest depth seen since start, for the metric. */
  peak = 0;

  constructor(private readonly services: Services) {}

  /** Current estimate. */
  get value(): number {
    return this.counted + this.since;
  }

  /** A request accepted here since the last count. */
  noteQueued(n = 1): void {
    this.since += n;
    this.peak = Math.max(this.peak, this.value);
  }

  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const n = await liveExecutions(this.services).count(QUEUED_STATUSES);
        this.counted = n;
        this.since = 0;
        this.refreshedAt = new Date();
        this.peak = Math.max(this.peak, n);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  async start(): Promise<void> {
    await this.refresh();
    const every = this.services.config.backpressure.refresh_ms;
    this.timer = setInterval(
      () =>
        void this.refresh().catch((err) =>
          this.services.logger.warn({ err }, 'counting the execution queue failed; keeping the last count'),
        ),
      every,
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  snapshot(): Record<string, unknown> {
    const limit = this.services.config.backpressure.max_queue_depth;
    return {
      depth: this.value,
      counted: this.counted,
      accepted_since_count: this.since,
      peak: this.peak,
      limit,
      refusing: limit > 0 && this.value >= limit,
      counted_at: this.refreshedAt?.toISOString() ?? null,
      refresh_ms: this.services.config.backpressure.refresh_ms,
    };
  }
}

const depths = new WeakMap<Services, QueueDepth>();

/** The queue-depth counter of this process (created on first use). */
export function queueDepth(services: Services): QueueDepth {
  let d = depths.get(services);
  if (!d) {
    d = new QueueDepth(services);
    depths.set(services, d);
  }
  return d;
}

/** Called by the executions service for each execution it queues. */
export function noteQueued(services: Services): void {
  depths.get(services)?.noteQueued();
}
