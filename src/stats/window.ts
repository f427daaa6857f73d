/** The ranges the dashboard offers, and the bucket each is drawn in. */
export const STATS_RANGES = {
  '24h': { buckets: 24, bucket: 'hour' },
  '7d': { buckets: 7 * 24, bucket: 'hour' },
  '30d': { buckets: 30, bucket: 'day' },
} as const;

export type StatsRange = keyof typeof STATS_RANGES;
export type BucketSize = (typeof STATS_RANGES)[StatsRange]['bucket'];

const BUCKET_MS: Record<BucketSize, number> = { hour: 3_600_000, day: 86_400_000 };
/** How many characters of an ISO-8601 time name its bucket: `2026-12-04T10` (hour), `2026-12-04` (day). */
export const BUCKET_PREFIX: Record<BucketSize, number> = { hour: 13, day: 10 };

export interface StatsWindow {
  range: StatsRange;
  bucket: BucketSize;
  /** Start of the first bucket (inclusive), ISO-8601 UTC. */
  since: string;
  /** End of the last bucket (exclusive): the end of the current hour or day. */
  until: string;
  /** Start of every bucket, oldest first. */
  starts: string[];
}

/** Whole buckets, the last one holding `now`: 24 h is the current hour and the 23 before it. */
export function statsWindow(range: StatsRange, now: Date = new Date()): StatsWindow {
  const { buckets, bucket } = STATS_RANGES[range];
  const size = BUCKET_MS[bucket];
  const current = Math.floor(now.getTime() / size) * size;
  const first = current - (buckets - 1) * size;
  const starts = Array.from({ length: buckets }, (_, i) => new Date(first + i * size).toISOString());
  return {
    range,
    bucket,
    since: starts[0],
    until: new Date(current + size).toISOString(),
    starts,
  };
}

/** The bucket start a group key (a cut ISO time) names. */
export function bucketStart(key: string, bucket: BucketSize): string {
  return new Date(bucket === 'hour' ? `${key}:00:00.000Z` : `${key}T00:00:00.000Z`).toISOString();
}
