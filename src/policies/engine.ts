import { createHash } from 'node:crypto';
import {
  actionSpecs,
  type ExecutionDeps,
  type ExecutionService,
  runParameters,
  liveExecutions,
  isCompleted,
} from '../executions/index.js';
import type { ParameterSpec } from '../runners/index.js';
import type { Services } from '../service/index.js';
import {
  type ExecutionRecord,
  type PolicyRecord,
  claimOrTakeOver,
  doOnce,
  storedIds,
  type ClaimedWork,
} from '../store/index.js';
import { idAt, idFor } from '../ids.js';

/**
 * st2's action policies (st2-reference.md §9), enforced through the store so they hold across
 * processes: a concurrency slot is a claim (unique insert) `concurrency:<key>:<n>`, held by the
 * execution until it completes; a retry is a new execution requested on completion.
 */
export class PolicyEngine {
  private policies = new Map<string, PolicyRecord[]>();
  private loaded = false;

  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
  ) {}

  async reload(): Promise<void> {
    const all = await this.services.store.policies.find({ enabled: { $ne: false } });
    const map = new Map<string, PolicyRecord[]>();
    for (const p of all) {
      const ref = String(p.resource_ref);
      map.set(ref, [...(map.get(ref) ?? []), p]);
    }
    this.policies = map;
    this.loaded = true;
  }

  private async forAction(ref: string): Promise<PolicyRecord[]> {
    if (!this.loaded) await this.reload();
    return this.policies.get(ref) ?? [];
  }

  private async concurrencyKey(
    policy: PolicyRecord,
    execution: ExecutionRecord,
    specs: () => Promise<Record<string, ParameterSpec>>,
  ): Promise<string> {
    const base = `${policy.ref}:${execution.action.ref}`;
    if (policy.policy_type !== 'action.concurrency.attr') return base;
    const attrs = ((policy.parameters as { attributes?: string[] })?.attributes ?? []).slice().sort();
    // Keyed by the values the run uses: an attribute left to its default is stored no more (st2's
    // live parameters), and an execution that gives the default's value explicitly shares its slot.
    const params = runParameters(execution, await specs(), this.services.secrets!);
    const values = attrs.map((a) => JSON.stringify(params[a] ?? null)).join('|');
    return `${base}:${createHash('sha256').update(values).digest('hex').slice(0, 16)}`;
  }

  /** ExecutionDeps.hasPolicies: any enabled policy of this action, whatever its type. */
  hasPolicies: NonNullable<ExecutionDeps['hasPolicies']> = async (ref) =>
    (await this.forAction(ref)).length > 0;

  /** ExecutionDeps.admit: takes a concurrency slot, or says delay/cancel. */
  admit: NonNullable<ExecutionDeps['admit']> = async (execution, given) => {
    const policies = (await this.forAction(execution.action.ref)).filter((p) =>
      String(p.policy_type).startsWith('action.concurrency'),
    );
    // The action is read only when its caller did not have it (a re-admission, recovery), once.
    // An action removed meanwhile leaves what the execution stores (its run fails anyway).
    let specs = given;
    const specsOf = async () =>
      (specs ??= actionSpecs(await this.services.store.actions.findOne({ ref: execution.action.ref })));
    const held: string[] = [];
    for (const policy of policies) {
      const params = (policy.parameters ?? {}) as { threshold?: number; action?: string };
      const threshold = Number(params.threshold ?? 0);
      const key = await this.concurrencyKey(policy, execution, specsOf);
      // A re-admission (two completions can each try one) keeps the slot this execution holds.
      let got = await this.slotHeld(key, threshold, execution.id);
      for (let slot = 0; slot < threshold && !got; slot++) {
        const claim = `concurrency:${key}:${slot}`;
        // A slot's owner is an execution; one that completed without giving the slot back (its
        // process died between taking the slot and recording it) holds it no longer.
        const taken = await claimOrTakeOver(this.services.store, claim, execution.id, {
          ttlMs: this.services.config.executions.dead_after_ms,
          ownerGone: (held) => this.executionGone(held.owner),
        });
        if (taken.claimed || taken.holder?.owner === execution.id) got = claim;
      }
      if (!got) {
        for (const claim of held) await this.services.store.release(claim, execution.id);
        return params.action === 'cancel' ? 'canceled' : 'delayed';
      }
      held.push(got);
    }
    // Added, never replaced: a slot left out of the record would outlive the execution, as no
    // completion would give it back.
    for (const claim of held)
      await this.services.store.executions.updateOne(
        { id: execution.id },
        { $addToSet: { policy_slots: claim } },
      );
    return 'run';
  };

  private async slotHeld(key: string, threshold: number, owner: string): Promise<string | undefined> {
    const ids = Array.from({ length: threshold }, (_, slot) => `concurrency:${key}:${slot}`);
    const mine = await this.services.store.claims.find({ id: { $in: ids }, owner });
    return mine[0]?.id;
  }

  /** ExecutionDeps.delayedByPolicy. */
  delayedByPolicy: NonNullable<ExecutionDeps['delayedByPolicy']> = (execution) =>
    this.admitDelayed(execution.action.ref, execution.id);

  private async executionGone(id: string): Promise<boolean> {
    const execution = await this.services.store.executions.get(id);
    return !execution || isCompleted(execution.status);
  }

  /** ExecutionDeps.owedOnCompletion: the retry a failed execution is owed, claimed with its completion. */
  owedOnCompletion: NonNullable<ExecutionDeps['owedOnCompletion']> = async (completed) =>
    (await this.retryPlan(completed)) ? [this.retryWork.prefix + completed.id] : [];

  /** On completion: free the slots, admit the oldest delayed execution, and apply retry policies. */
  async onCompleted(execution: ExecutionRecord): Promise<void> {
    const slots = ((execution as { policy_slots?: string[] }).policy_slots ?? []) as string[];
    for (const claim of slots) await this.services.store.release(claim, execution.id);
    if (slots.length) await this.admitDelayed(execution.action.ref);
    await this.retry(execution);
  }

  /**
   * Admits the oldest delayed execution of this action that a slot now takes, reading only the
   * delayed executions of this action. Resolves to `own`'s record when this changed it.
   */
  private async admitDelayed(actionRef: string, own?: string): Promise<ExecutionRecord | undefined> {
    const live = liveExecutions(this.services);
    let ownRecord: ExecutionRecord | undefined;
    const delayed = (await live.read(await live.delayed(actionRef), ['delayed']))
      // Not a run waiting out its own `delay` (delayed_until): that one has its run job.
      .filter((e) => !(e as { delayed_until?: string }).delayed_until)
      .sort((a, b) => a.start_timestamp.localeCompare(b.start_timestamp))
      .slice(0, 5);
    for (const candidate of delayed) {
      const round = ((candidate as { delay_rounds?: number }).delay_rounds ?? 0) + 1;
      // One process re-admits a given delayed execution per round.
      const readmit = await claimOrTakeOver(
        this.services.store,
        `readmit:${candidate.id}:${round}`,
        this.executions().workerId,
        { ttlMs: this.services.config.executions.dead_after_ms },
      );
      if (!readmit.claimed) continue;
      const counted = await this.services.store.executions.updateOne(
        { id: candidate.id },
        { $set: { delay_rounds: round } },
      );
      if (candidate.id === own && counted) ownRecord = counted;
      const verdict = await this.admit(candidate);
      if (verdict !== 'run') continue;
      const now = new Date().toISOString();
      const requeued = await this.services.store.executions.updateOne(
        { id: candidate.id, status: 'delayed' },
        {
          $set: { status: 'requested' },
          $push: { log: { status: 'requested', timestamp: now, reason: 'concurrency slot free' } },
        },
      );
      if (requeued) {
        await live.moved(candidate.id, 'requested', actionRef);
        const scheduled = await this.executions().schedule(requeued, { admitted: true });
        if (candidate.id === own) ownRecord = scheduled;
      }
      return ownRecord;
    }
    return ownRecord;
  }

  /**
   * A retry is requested once per failed execution, whichever process completes it; one killed
   * after claiming the retry leaves the claim open for the sweep to take over (retryWork).
   */
  private async retry(execution: ExecutionRecord): Promise<void> {
    if (!(await this.retryPlan(execution))) return;
    // The completed record as stored (setStatus hands on what its update returned): its retry's
    // id is the one a taker reading it would derive, and it is not read again here.
    const work: ClaimedWork = { prefix: this.retryWork.prefix, run: () => this.requestRetry(execution) };
    await doOnce(this.services.store, work, execution.id, this.executions().workerId);
  }

  /** The re-run's id is derived from the claim: a taker finds the one a dead owner requested. */
  readonly retryWork: ClaimedWork = {
    prefix: 'retry:',
    run: async (id) => {
      // A taker has only the id: the retry's id comes from the failed execution's end, so the
      // execution is read before its retry can be looked up.
      const execution = await this.services.store.executions.get(id);
      if (execution) await this.requestRetry(execution);
    },
  };

  /** Requests `execution`'s retry unless it is stored already (by a dead owner, or an older version). */
  private async requestRetry(execution: ExecutionRecord): Promise<void> {
    const { store } = this.services;
    // From the failed execution's end, which every process reads the same (idAt: retries sort by
    // it); storedIds also finds a retry an older version named by idFor alone.
    const key = `${this.retryWork.prefix}${execution.id}`;
    const rerunId = execution.end_timestamp ? idAt(key, execution.end_timestamp) : idFor(key);
    if ((await storedIds(store.executions, [{ key, id: rerunId }]))[0].record) return;
    const plan = await this.retryPlan(execution);
    if (!plan) return;
    // The failed execution as completion (or the taker) read it: rerun does not read it again.
    const rerun = await this.executions().rerun(
      execution,
      String(execution.context.user ?? 'stanley'),
      {},
      plan.delayMs,
      {
        policies: {
          retry: {
            retry_count: plan.count + 1,
            applied_policy: plan.policy.ref,
            // st2's key (a liveaction's id is its execution's here); `previous` and `original` are Squall's.
            retried_liveaction_id: execution.id,
            original: plan.original,
            previous: execution.id,
          },
        },
      },
      rerunId,
    );
    this.services.logger.info(
      { execution: execution.id, retry: rerun.id, attempt: plan.count + 1, policy: plan.policy.ref },
      'retry policy re-ran execution',
    );
  }

  /** The retry policy that applies to a completed execution, if one does and has retries left. */
  private async retryPlan(
    execution: ExecutionRecord,
  ): Promise<{ policy: PolicyRecord; count: number; original: string; delayMs: number } | undefined> {
    const retryOn =
      execution.status === 'failed' ? 'failure' : execution.status === 'timeout' ? 'timeout' : undefined;
    if (!retryOn || execution.parent) return undefined;
    const policy = (await this.forAction(execution.action.ref)).find(
      (p) =>
        p.policy_type === 'action.retry' && (p.parameters as { retry_on?: string })?.retry_on === retryOn,
    );
    if (!policy) return undefined;
    const params = policy.parameters as { max_retry_count?: number; delay?: number };
    const info = (
      execution.context.policies as
        { retry?: { retry_count: number; applied_policy: string; original?: string } } | undefined
    )?.retry;
    const count = info?.retry_count ?? 0;
    if (count >= Number(params.max_retry_count ?? 2)) return undefined;
    return {
      policy,
      count,
      original: info?.original ?? execution.id,
      delayMs: Number(params.delay ?? 0) * 1000,
    };
  }
}
