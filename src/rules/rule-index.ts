/**
 * The rules engine's hot path: enabled rules by the trigger ref they listen to, in memory.
 * Rebuilt from the store when rules change (events `st2.rule__*`, content re-registration),
 * never queried per trigger instance.
 */
import type { RuleRecord, Store } from '../store/index.js';
import {
  normalizeWebhookUrl,
  triggerRefFor,
  WEBHOOK_TRIGGER_TYPE,
  type WebhookBinding,
} from '../triggers/index.js';

export type { WebhookBinding };

export function ruleTriggerRef(rule: RuleRecord): string {
  const t = rule.trigger as { type: string; parameters?: Record<string, unknown> };
  return triggerRefFor(t.type, t.parameters);
}

export class RuleIndex {
  private byTrigger = new Map<string, RuleRecord[]>();
  private webhooks = new Map<string, WebhookBinding[]>();
  private version = 0;
  private loading?: Promise<void>;
  private dirty = false;

  private current: RuleRecord[] = [];

  /**
   * Applies one change this process just wrote, without reading the store back: a read right
   * after a write may come from an older snapshot on FerretDB, and the API must not answer
   * before its own engine knows the rule.
   */
  apply(op: 'create' | 'update' | 'delete', rule: RuleRecord): void {
    // A reload in flight may have read the store before this change: it replays it on its result.
    if (this.loading) this.appliedDuringLoad.push({ op, rule });
    this.set(withChange(this.current, op, rule));
  }

  private appliedDuringLoad: Array<{ op: 'create' | 'update' | 'delete'; rule: RuleRecord }> = [];

  /** Replaces the index with these (enabled) rules. */
  set(rules: RuleRecord[]): void {
    this.current = rules;
    const byTrigger = new Map<string, RuleRecord[]>();
    const webhooks = new Map<string, Map<string, WebhookBinding>>();
    for (const rule of [...rules].sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0))) {
      if (rule.enabled !== true) continue;
      const ref = ruleTriggerRef(rule);
      const list = byTrigger.get(ref) ?? [];
      list.push(rule);
      byTrigger.set(ref, list);
      const t = rule.trigger as { type: string; parameters?: Record<string, unknown> };
      if (t.type === WEBHOOK_TRIGGER_TYPE) {
        const url = normalizeWebhookUrl(t.parameters?.url);
        const forUrl = webhooks.get(url) ?? new Map<string, WebhookBinding>();
        const binding = forUrl.get(ref) ?? {
          triggerRef: ref,
          url,
          parameters: t.parameters ?? {},
          rules: [],
        };
        binding.rules.push(rule);
        forUrl.set(ref, binding);
        webhooks.set(url, forUrl);
      }
    }
    this.byTrigger = byTrigger;
    this.webhooks = new Map([...webhooks].map(([url, m]) => [url, [...m.values()]]));
    this.version++;
  }

  /**
   * Reloads from the store. Calls that arrive while a load runs coalesce into one more load, so
   * a burst of rule changes costs at most two queries and the last change is always seen.
   */
  async reload(store: Store): Promise<void> {
    if (this.loading) {
      this.dirty = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.dirty = false;
          let rules = (await store.rules.find({ enabled: true })) as RuleRecord[];
          for (const { op, rule } of this.appliedDuringLoad) rules = withChange(rules, op, rule);
          this.set(rules);
        } while (this.dirty);
      } finally {
        this.loading = undefined;
        this.appliedDuringLoad = [];
      }
    })();
    return this.loading;
  }

  /** Resolves once a reload under way (if any) is applied: what an event is matched against. */
  settled(): Promise<void> {
    return this.loading ?? Promise.resolve();
  }

  /** Enabled rules listening to this trigger ref (a type ref or a parameterised trigger's ref). */
  candidates(triggerRef: string): RuleRecord[] {
    return this.byTrigger.get(triggerRef) ?? [];
  }

  /** The webhook bindings (one per distinct parameter set) of a url. */
  webhook(url: string): WebhookBinding[] {
    return this.webhooks.get(normalizeWebhookUrl(url)) ?? [];
  }

  webhookUrls(): string[] {
    return [...this.webhooks.keys()].sort();
  }

  get generation(): number {
    return this.version;
  }
}

function withChange(rules: RuleRecord[], op: 'create' | 'update' | 'delete', rule: RuleRecord): RuleRecord[] {
  const others = rules.filter((r) => r.ref !== rule.ref && r.id !== rule.id);
  return op === 'delete' ? others : [...others, rule];
}
