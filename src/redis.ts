import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * A Redis connection; ioredis is loaded with the first one. A server without `redis.url` never
 * makes one, and ioredis (40 modules) stayed out of every start.
 */
export function connectRedis(url: string, options: RedisOptions): Redis {
  const { Redis } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  return new Redis(url, options);
}
