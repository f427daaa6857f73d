/**
 * Slack's Web API rate limits for the methods a chat bot writes with (api.slack.com/apis/rate-limits):
 * - chat.postMessage, "special tier": about one message per second per channel, short bursts
 *   allowed (Slack does not publish the burst size; this emulator allows POST_BURST);
 * - chat.update, Tier 3: 50+ per minute per workspace, "sporadic bursts are welcome".
 * Over the limit Slack answers HTTP 429 `{ok:false, error:'ratelimited'}` with `Retry-After`.
 * Token buckets: each call takes a token; tokens come back at the tier's rate up to the burst.
 */

export const POST_BURST = 4;
const POST_PER_SECOND = 1;
const TIER3_PER_MINUTE = 50;

interface Bucket {
  tokens: number;
  at: number;
}

interface Limit {
  burst: number;
  perSecond: number;
}

const LIMITS: Record<string, Limit> = {
  'chat.postMessage': { burst: POST_BURST, perSecond: POST_PER_SECOND },
  'chat.update': { burst: TIER3_PER_MINUTE, perSecond: TIER3_PER_MINUTE / 60 },
};

export class SlackRateLimits {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Every limit full again, as after a quiet minute. */
  reset(): void {
    this.buckets.clear();
  }

  /**
   * Takes a token for `method` (per `channel` for chat.postMessage): undefined when within the
   * limit, else the seconds to wait (Retry-After).
   */
  take(method: string, channel: string | undefined): number | undefined {
    const limit = LIMITS[method];
    if (!limit) return undefined;
    const key = method === 'chat.postMessage' ? `${method}:${channel ?? ''}` : method;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
  }
}
