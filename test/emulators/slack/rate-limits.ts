/**
 * Slack's Web API rate limits for the methods a chat bot writes with (api.slack.com/apis/rate-limits):
 * - chat.postMessage, "special tier": about one message per second per channel, short bursts
 *   allowed (Slack does not publish the burst size; this emulator allows POST_BURST);
 * - every other method by its documented tier, per method per workspace: Tier 2 "20+ per minute",
 *   Tier 3 "50+ per minute, sporadic bursts are welcome", Tier 4 "100+ per minute, generous bursts"
 *   (the emulator allows a minute's worth at once, then the tier's rate);
 * Over the limit Slack answers HTTP 429 `{ok:false, error:'ratelimited'}` with `Retry-After`.
 * Token buckets: each call takes a token; tokens come back at the tier's rate up to the burst.
 */

export const POST_BURST = 4;
const POST_PER_SECOND = 1;
const TIER2_PER_MINUTE = 20;
const TIER3_PER_MINUTE = 50;
const TIER4_PER_MINUTE = 100;

interface Bucket {
  tokens: number;
  at: number;
}

interface Limit {
  burst: number;
  perSecond: number;
}

const tier = (perMinute: number): Limit => ({ burst: perMinute, perSecond: perMinute / 60 });

const LIMITS: Record<string, Limit> = {
  'chat.postMessage': { burst: POST_BURST, perSecond: POST_PER_SECOND },
  'chat.update': tier(TIER3_PER_MINUTE),
  'chat.delete': tier(TIER3_PER_MINUTE),
  'chat.postEphemeral': tier(TIER4_PER_MINUTE),
  'views.open': tier(TIER4_PER_MINUTE),
  'views.update': tier(TIER4_PER_MINUTE),
  'conversations.info': tier(TIER3_PER_MINUTE),
  'conversations.history': tier(TIER3_PER_MINUTE),
  'conversations.replies': tier(TIER3_PER_MINUTE),
  'conversations.open': tier(TIER3_PER_MINUTE),
  'conversations.join': tier(TIER3_PER_MINUTE),
  'users.info': tier(TIER4_PER_MINUTE),
  'reactions.add': tier(TIER3_PER_MINUTE),
  'reactions.remove': tier(TIER2_PER_MINUTE),
  'files.getUploadURLExternal': tier(TIER4_PER_MINUTE),
  'files.completeUploadExternal': tier(TIER4_PER_MINUTE),
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
