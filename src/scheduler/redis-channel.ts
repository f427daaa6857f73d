import type { Redis } from 'ioredis';
import {
  BaseNotificationChannel,
  type JobNotification,
  type JobStateNotification,
  type NotificationChannelConfig,
} from 'agenda';
import { SquallError } from '../errors.js';
import { connectRedis } from '../redis.js';

/**
 * Agenda's NotificationChannel on Redis pub/sub: a job saved in one process is announced to every
 * process, whose job processor fills its queue at once instead of waiting for the next poll
 * (scheduler.process_every_ms). Polling stays as the safety net for missed messages.
 *
 * Job state notifications (start, success, complete, … of every run) are not sent: Agenda only
 * re-emits them as its own events in the other processes, and nothing in Squall listens to those
 * (the Scheduler listens to `error` alone). Sent, they were three PUBLISHes per job run, each a
 * socket write here and a JSON parse in every other process (~1 ms of CPU per webhook across the
 * scale-out processes). Without `publishState` Agenda skips them (publishJobStateNotification).
 */
export class RedisNotificationChannel extends BaseNotificationChannel {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly stateChannel: string;

  constructor(
    private readonly url: string,
    config: NotificationChannelConfig = {},
  ) {
    super({ channelName: 'squall:agenda:jobs', ...config });
    this.stateChannel = `${this.config.channelName}:state`;
    // Publishes made in one turn of the event loop go out in one write.
    this.pub = connectRedis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true });
    this.sub = connectRedis(url, { lazyConnect: true });
    for (const conn of [this.pub, this.sub]) conn.on('error', (err: Error) => this.emit('error', err));
    // ioredis reconnects by itself; mirror its state so Agenda skips publishing while it is away.
    this.sub.on('ready', () => this.state !== 'disconnected' && this.setState('connected'));
    this.sub.on('reconnecting', () => this.state === 'connected' && this.setState('reconnecting'));
    this.sub.on('message', (channel: string, message: string) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(message) as Record<string, unknown>;
      } catch (err) {
        this.emit(
          'error',
          new SquallError('JOB_NOTIFICATION_UNREADABLE', `a message on ${channel} is not JSON`, {
            channel,
            cause: String(err),
          }),
        );
        return;
      }
      // Revived in ioredis's socket read, where a throw would stop the process: what is not an
      // object (a peer on Redis, another version) is reported and dropped (polling still runs).
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        this.emit(
          'error',
          new SquallError('JOB_NOTIFICATION_MALFORMED', `a message on ${channel} is not a JSON object`, {
            channel,
            sample: message.slice(0, 200),
          }),
        );
        return;
      }
      if (channel === this.config.channelName) void this.notifyHandlers(reviveJob(parsed));
      else if (channel === this.stateChannel) void this.notifyStateHandlers(reviveState(parsed));
    });
  }

  async connect(): Promise<void> {
    this.setState('connecting');
    try {
      if (this.pub.status === 'wait') await this.pub.connect();
      if (this.sub.status === 'wait') await this.sub.connect();
      await this.sub.subscribe(this.config.channelName, this.stateChannel);
    } catch (err) {
      this.setState('error');
      throw new SquallError(
        'REDIS_UNREACHABLE',
        `cannot connect to Redis at ${redact(this.url)} for job notifications: ${String(err)}`,
        { channel: this.config.channelName },
      );
    }
    this.clearReconnect();
    this.setState('connected');
  }

  async disconnect(): Promise<void> {
    this.clearReconnect();
    this.handlers.clear();
    this.stateHandlers.clear();
    this.setState('disconnected');
    await Promise.all(
      [this.pub, this.sub].map((c) =>
        c.status === 'wait' || c.status === 'end' ? c.disconnect() : c.quit(),
      ),
    );
  }

  async publish(notification: JobNotification): Promise<void> {
    await this.pub.publish(this.config.channelName, JSON.stringify(notification));
  }
}

/** A date sent as text or a number; anything else (not what Agenda sends) as none. */
const toDate = (v: unknown) =>
  v === null || v === undefined
    ? v
    : typeof v === 'string' || typeof v === 'number'
      ? new Date(v)
      : undefined;

function reviveJob(raw: Record<string, unknown>): JobNotification {
  return {
    ...(raw as unknown as JobNotification),
    nextRunAt: (toDate(raw.nextRunAt) as Date | null | undefined) ?? null,
    timestamp: toDate(raw.timestamp) as Date,
  };
}

function reviveState(raw: Record<string, unknown>): JobStateNotification {
  const out = { ...raw } as Record<string, unknown>;
  for (const k of ['timestamp', 'retryAt', 'lastRunAt', 'lastFinishedAt'])
    if (k in out) out[k] = toDate(out[k]);
  return out as unknown as JobStateNotification;
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:/@]*):[^@/]*@/, '://$1:****@');
}
