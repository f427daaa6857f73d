/**
 * How an LruMap weighs its entries besides counting them: `weigh` gives an entry's weight (fixed
 * while it is kept), and the least recently used go until the kept entries weigh at most
 * `maxWeight` in all. An entry heavier than `maxWeight` alone is not kept (and evicts nothing).
 */
export interface LruWeigher<K, V> {
  weigh(key: K, value: V): number;
  maxWeight: number;
}

/**
 * A Map of at most `limit` entries that drops the least recently used: get() of a present key and
 * set() make that key the most recent. For this process's caches of what is derived from a text or
 * an id (parsed expressions and templates, compiled schemas and regexes, workflow definitions):
 * each trimmed a Map by insertion order by hand, so an entry read at every use went as soon as
 * `limit` others had come after it. With a weigher it is also bounded by the entries' total weight
 * (a parsed definition holds several times its text, so a count alone let large ones hold gigabytes).
 */
export class LruMap<K, V> extends Map<K, V> {
  private readonly weights: Map<K, number> | undefined;
  private total = 0;

  constructor(
    readonly limit: number,
    private readonly weigher?: LruWeigher<K, V>,
  ) {
    super();
    this.weights = weigher ? new Map() : undefined;
  }

  /** The kept entries' total weight (0 without a weigher). */
  get weight(): number {
    return this.total;
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value === undefined && !super.has(key)) return undefined;
    super.delete(key);
    super.set(key, value as V);
    return value;
  }

  override set(key: K, value: V): this {
    this.delete(key);
    if (this.weigher && this.weights) {
      const weight = this.weigher.weigh(key, value);
      if (weight > this.weigher.maxWeight) return this;
      this.weights.set(key, weight);
      this.total += weight;
    }
    super.set(key, value);
    // Least recently used first: get() and set() move a key to the end.
    while (super.size > this.limit || (this.weigher !== undefined && this.total > this.weigher.maxWeight)) {
      this.delete(super.keys().next().value as K);
    }
    return this;
  }

  override delete(key: K): boolean {
    if (this.weights) {
      const weight = this.weights.get(key);
      if (weight !== undefined) {
        this.total -= weight;
        this.weights.delete(key);
      }
    }
    return super.delete(key);
  }

  override clear(): void {
    this.weights?.clear();
    this.total = 0;
    super.clear();
  }
}

/**
 * An LruMap of what is compiled from a text someone else writes (a template, an expression, a
 * pattern, a schema's JSON), bounded by the texts' characters as well as by count: what is
 * compiled holds 10–60 times its text (a 54 KB template of 6,000 `{{x}}` 2.9 MiB, a 24 KB regex
 * 0.3 MiB), so a count alone let one user's distinct large texts, sent in parameters, fill the
 * heap (2,000 such templates: 5.6 GiB) and crash the service. An entry longer than `maxChars`
 * alone is compiled at each use, not kept.
 */
export function textKeyedCache<V>(limit: number, maxChars: number): LruMap<string, V> {
  return new LruMap<string, V>(limit, { weigh: (text) => text.length, maxWeight: maxChars });
}
