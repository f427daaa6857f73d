import { RedisEventTransport, type EventBus } from '../events/index.js';
import type { Logger } from '../log/index.js';
import { RedisNotificationChannel } from '../scheduler/index.js';

/**
 * With `redis.url`, processes tell each other at once: Agenda job notifications (a job saved in
 * one process starts in another without waiting for a poll) and bus events (the SSE stream and
 * chat threads of one process see executions run by every other).
 */
export function redisNotificationChannel(url: string, logger: Logger): RedisNotificationChannel {
  const channel = new RedisNotificationChannel(url);
  channel.on('error', (err) => logger.warn({ err }, 'Redis job notifications: error (polling still runs)'));
  return channel;
}

export async function attachRedisEvents(
  bus: EventBus,
  url: string,
  logger: Logger,
  onLink?: (up: boolean) => void,
): Promise<void> {
  const transport = new RedisEventTransport(url, {
    onError: (err) => logger.warn({ err }, 'Redis event bridge: error'),
    onLink,
  });
  bus.onTransportError((err) => logger.warn({ err }, 'Redis event bridge: publish failed'));
  await bus.attach(transport);
}
