import { RedisEventTransport, type EventBus } from '../events/index.js';
import { warnThrottled, type Logger } from '../log/index.js';
import { RedisNotificationChannel } from '../scheduler/index.js';

/**
 * The Redis channels of the deployment on this MongoDB database. Redis pub/sub ignores the Redis
 * database number, so two deployments sharing one Redis (staging and production, or two test
 * clusters) heard each other's events and job notifications; their channels now carry the
 * database's name. The default database `squall` (and a store without MongoDB) keeps the names of
 * earlier versions, so the processes of a rolling upgrade still hear each other.
 */
export function redisChannels(database?: string): { events: string; jobs: string } {
  const base = !database || database === 'squall' ? 'squall' : `squall:${database}`;
  return { events: `${base}:events`, jobs: `${base}:agenda:jobs` };
}

/**
 * With `redis.url`, processes tell each other at once: Agenda job notifications (a job saved in
 * one process starts in another without waiting for a poll) and bus events (the SSE stream and
 * chat threads of one process see executions run by every other).
 */
export function redisNotificationChannel(
  url: string,
  logger: Logger,
  database?: string,
): RedisNotificationChannel {
  const channel = new RedisNotificationChannel(url, { channelName: redisChannels(database).jobs });
  // A peer on Redis can publish garbage at will: each report would be a log line in every process.
  channel.on('error', warnThrottled(logger, 'Redis job notifications: error (polling still runs)'));
  return channel;
}

export async function attachRedisEvents(
  bus: EventBus,
  url: string,
  logger: Logger,
  onLink?: (up: boolean) => void,
  database?: string,
): Promise<void> {
  const transport = new RedisEventTransport(url, {
    channel: redisChannels(database).events,
    // A peer on Redis can publish garbage at will: each report would be a log line in every process.
    onError: warnThrottled(logger, 'Redis event bridge: error'),
    onLink,
  });
  bus.onTransportError((err) => logger.warn({ err }, 'Redis event bridge: publish failed'));
  await bus.attach(transport);
}
