/**
 * Discord's per-route rate limits (discord.com/developers/docs/topics/rate-limits). Discord does not
 * publish the figures and says to read the headers; these are the ones its headers show for the
 * routes a bot writes with, per channel (the route's major parameter):
 * - POST /channels/:id/messages: 5 per 5 s;
 * - PATCH and DELETE /channels/:id/messages/:id: 5 per 5 s;
 * - PUT and DELETE …/messages/:id/reactions/…: 1 per 0.25 s.
 * Each answer carries X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket; over the limit the
 * answer is 429 `{message, retry_after (float s), global: false}` with Retry-After (whole seconds)
 * and X-RateLimit-Scope: user. discord.js reads the headers and queues the next request of the
 * bucket until its reset, so it meets a 429 only when something else spent the bucket.
 */

interface RouteLimit {
  /** Shared by every channel, as Discord's bucket hash is; the bucket is hash + channel. */
  hash: string;
  limit: number;
  windowMs: number;
}

const MESSAGES: RouteLimit = { hash: 'emu-messages-create', limit: 5, windowMs: 5_000 };
const EDITS: RouteLimit = { hash: 'emu-messages-edit', limit: 5, windowMs: 5_000 };
const REACTIONS: RouteLimit = { hash: 'emu-reactions', limit: 1, windowMs: 250 };

function routeLimit(method: string, segments: string[]): RouteLimit | undefined {
  if (segments[0] !== 'channels' || segments[2] !== 'messages') return undefined;
  if (segments.length === 3 && method === 'POST') return MESSAGES;
  if (segments.length === 4 && (method === 'PATCH' || method === 'DELETE')) return EDITS;
  if (segments[4] === 'reactions' && (method === 'PUT' || method === 'DELETE')) return REACTIONS;
  return undefined;
}

export interface RateLimitAnswer {
  headers: Record<string, string>;
  /** Set when the request is over the limit: seconds until the bucket resets. */
  retryAfter?: number;
}

export class DiscordRateLimits {
  private readonly buckets = new Map<string, { remaining: number; resetAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Every bucket full again. */
  reset(): void {
    this.buckets.clear();
  }

  /** Spends one request of the route's bucket; undefined for routes without a limit here. */
  take(method: string, segments: string[]): RateLimitAnswer | undefined {
    const route = routeLimit(method, segments);
    if (!route) return undefined;
    const key = `${route.hash}:${segments[1]}`;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket || now >= bucket.resetAt) {
      bucket = { remaining: route.limit, resetAt: now + route.windowMs };
      this.buckets.set(key, bucket);
    }
    const over = bucket.remaining === 0;
    if (!over) bucket.remaining -= 1;
    const resetAfter = (bucket.resetAt - now) / 1000;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(route.limit),
      'x-ratelimit-remaining': String(bucket.remaining),
      'x-ratelimit-reset': (bucket.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': route.hash,
    };
    if (!over) return { headers };
    return {
      headers: { ...headers, 'retry-after': String(Math.ceil(resetAfter)), 'x-ratelimit-scope': 'user' },
      retryAfter: resetAfter,
    };
  }
}
