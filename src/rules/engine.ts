/**
 * The rules engine (st2-reference.md §4): the `trigger.process` job takes a stored trigger
 * instance, matches the enabled rules listening to its trigger (in-memory index), and for each
 * match renders the action parameters and requests the execution. Every enforcement, fired or
 * failed, is stored (§4.4). Backstop rules fire only when no standard rule matched.
 */
import { ConflictError, errorMessage } from '../errors.js';
import {
  mentionsDatastore,
  redactText,
  type ExecutionService,
  type HiddenValue,
} from '../executions/index.js';
import { idAfter, idFor, newId } from '../ids.js';
import { secretReader, templateDecryptor, type KvSnapshot } from '../kv/index.js';
import {
  claimOrTakeOver,
  storedIds,
  type ExecutionRecord,
  type RuleEnforcementRecord,
  type RuleRecord,
  type TriggerInstanceRecord,
} from '../store/index.js';
import { evaluateCriteria, type Criteria, type CriteriaVerdict } from '../rules/criteria/index.js';
import type { Services } from '../service/index.js';
import type { TraceContext } from '../traces/index.js';
import {
  kvContext,
  leavePending,
  type KvContext,
  maskTriggerParameters,
  takeStored,
  isDerivedInstance,
  noteWholeExecution,
  shownOnBus,
  withPayload,
  triggerInstanceReads,
} from '../triggers/index.js';
import { renderRuleParameters } from './render.js';
import { RuleIndex, ruleTriggerRef } from './rule-index.js';

/** The criteria verdict of one rule for one payload (what the rule tester prints too). */
export function matchRule(
  rule: { criteria?: unknown; [k: string]: unknown },
  payload: unknown,
  kv: KvContext,
  options: { evaluateAll?: boolean; now?: Date } = {},
): CriteriaVerdict {
  return evaluateCriteria((rule.criteria ?? {}) as Criteria, payload, {
    context: { st2kv: kv.st2kv },
    jinja: { decrypt: kv.decrypt },
    evaluateAll: options.evaluateAll,
    now: options.now,
  });
}

type Status = TriggerInstanceRecord['status'];

export class RulesEngine {
  constructor(
    private readonly services: Services,
    private readonly executions: () => ExecutionService,
    readonly index: RuleIndex,
  ) {}

  private get store() {
    return this.services.store;
  }

  private get systemUser(): string {
    return this.services.config.rules?.system_user ?? 'stanley';
  }

  /** `instance` is the instance as read (its payload given again when the store holds none). */
  private async setStatus(
    instance: TriggerInstanceRecord,
    status: Status,
    reason?: string,
  ): Promise<TriggerInstanceRecord | null> {
    const { id } = instance;
    const $set: Record<string, unknown> = { status };
    if (reason) $set.status_reason = reason;
    const updated = await this.store.triggerInstances.updateOne({ id }, { $set });
    if (status === 'processed' || status === 'processing_failed') await leavePending(this.services, id);
    if (updated)
      this.services.bus.publish(
        'st2.trigger_instance__update',
        // The payload read (its execution noted: noteWholeExecution), not the update's copy.
        shownOnBus(
          this.services,
          isDerivedInstance(updated)
            ? withPayload(updated, instance.payload)
            : { ...updated, payload: instance.payload },
        ),
      );
    return updated;
  }

  /**
   * The `trigger.process` job. Its writes (the instance's status, claims, trace entries, the
   * executions and their run jobs, the enforcements) are issued in order and acknowledged
   * together: one commit on the embedded store instead of one per write.
   */
  process(id: string): Promise<void> {
    return this.store.transaction(() => this.processInstance(id));
  }

  private async processInstance(id: string): Promise<void> {
    const instance = takeStored(this.services, id) ?? (await triggerInstanceReads(this.services).get(id));
    if (!instance) {
      this.services.logger.warn({ trigger_instance: id }, 'trigger instance to process no longer exists');
      return;
    }
    // `processing` again means a process died half-way: finish it (per-rule claims keep
    // already enforced rules from firing twice).
    if (instance.status !== 'pending' && instance.status !== 'processing') return;
    await noteWholeExecution(this.services, instance);
    await this.setStatus(instance, 'processing');
    try {
      await this.index.settled();
      const candidates = this.index.candidates(instance.trigger);
      if (candidates.length > 0) {
        // Every live key is read only when a candidate's criteria or parameters can reach them.
        const kv = await kvContext(
          this.services,
          undefined,
          candidates.some((r) => mentionsDatastore(r.criteria, r.action)),
        );
        const standard = candidates.filter((r) => (r.type as { ref?: string })?.ref !== 'backstop');
        const backstop = candidates.filter((r) => (r.type as { ref?: string })?.ref === 'backstop');
        const elsewhere: string[] = [];
        const fired = await this.enforceMatching(standard, instance, kv, elsewhere);
        if (fired === 0) await this.enforceMatching(backstop, instance, kv, elsewhere);
        // Another run of this job (a second process that locked it too) holds some rules'
        // claims: "processed" is its to say once those enforcements exist, or a sync webhook
        // reading the enforcements now would answer with executions missing.
        if (!(await this.enforcedAll(id, elsewhere))) return;
      }
      await this.setStatus(instance, 'processed');
    } catch (err) {
      this.services.logger.error({ err, trigger_instance: id }, 'processing a trigger instance failed');
      await this.setStatus(instance, 'processing_failed', errorMessage(err));
    }
  }

  private async enforcedAll(instanceId: string, ruleIds: string[]): Promise<boolean> {
    if (ruleIds.length === 0) return true;
    const done = await this.store.ruleEnforcements.find({ trigger_instance_id: instanceId });
    const recorded = new Set(done.map((e) => e.rule.id));
    return ruleIds.every((r) => recorded.has(r));
  }

  /** Enforces the rules whose criteria match; returns how many matched. Rules whose claim
   * another run holds are added to `elsewhere`. */
  private async enforceMatching(
    rules: RuleRecord[],
    instance: TriggerInstanceRecord,
    kv: KvContext,
    elsewhere: string[],
  ): Promise<number> {
    let matched = 0;
    for (const rule of rules) {
      const ruleKv = await this.kvOfAuthor(rule, kv);
      const verdict = matchRule(rule, instance.payload, ruleKv);
      const error = verdict.results.find((r) => r.error);
      if (error) {
        // An operator's error quotes its rendered pattern ("Invalid regular expression
        // \"<pattern>\""): one rendered from decrypt_kv would show the secret to everyone who
        // may read enforcements, and in the log.
        await this.record(rule, instance, {
          status: 'failed',
          failure_reason: redactText(
            `criteria of rule "${rule.ref}" could not be evaluated: ${verdict.failed?.reason ?? error.error}`,
            (ruleKv.secrets ?? []).map((s) => s.value),
          ),
        });
        continue;
      }
      if (!verdict.matched) continue;
      matched++;
      if (!(await this.enforce(rule, instance, ruleKv))) elsewhere.push(rule.id);
    }
    return matched;
  }

  /**
   * A rule's templates decrypt with the rights of its author (`context.user`, set by the API),
   * or of the system user for rules registered from packs; what they decrypt is collected so
   * the execution keeps it secret.
   */
  private async kvOfAuthor(rule: RuleRecord, kv: KvContext): Promise<KvContext> {
    if (!kv.decrypt) return kv;
    const author = (rule.context as { user?: unknown } | undefined)?.user;
    const reader = await secretReader(this.services, typeof author === 'string' ? author : this.systemUser);
    const secrets: HiddenValue[] = [];
    const decrypt = templateDecryptor(kv.decrypt, reader, kv.st2kv as KvSnapshot, (value) =>
      secrets.push({ value, redactOutput: true }),
    );
    return { ...kv, decrypt, secrets };
  }

  private traceContext(instance: TriggerInstanceRecord): TraceContext {
    return (instance.trace_context as TraceContext | undefined) ?? {};
  }

  /** Renders the parameters and requests the execution; stores the enforcement either way.
   * False when another run holds this rule's claim for the instance. */
  private async enforce(rule: RuleRecord, instance: TriggerInstanceRecord, kv: KvContext): Promise<boolean> {
    // The claim is taken before the enforcement exists: a process killed in between leaves it
    // held by a dead worker, which the next run of this job takes over. What the dead one may
    // already have stored (the execution, the enforcement) has ids derived from the claim, so
    // the taker finds it instead of storing it twice.
    const key = `rule_enforcement:${instance.id}:${rule.id}`;
    const got = await claimOrTakeOver(this.store, key, this.executions().workerId, {
      ttlMs: this.services.config.executions.dead_after_ms,
    });
    if (!got.claimed) return false;
    let enforcementId = idAfter(key, instance.id);
    let executionId = idAfter(`${key}:execution`, instance.id);
    if (got.from) {
      this.services.logger.info(
        { rule: rule.ref, trigger_instance: instance.id, previous_owner: got.from },
        'took over a rule enforcement left by a dead process',
      );
      // storedIds also finds what a dead owner of an older version stored under idFor's ids.
      if ((await storedIds(this.store.ruleEnforcements, [{ key, id: enforcementId }]))[0].record) return true;
      const [execution] = await storedIds(this.store.executions, [
        { key: `${key}:execution`, id: executionId },
      ]);
      if (execution.id !== executionId) {
        enforcementId = idFor(key);
        executionId = execution.id;
      }
    }
    // The enforcement itself puts the rule in the instance's trace (src/traces reads it from there).
    const trace = this.traceContext(instance);
    const action = rule.action as { ref: string; parameters?: Record<string, unknown> };
    let parameters: Record<string, unknown>;
    try {
      parameters = renderRuleParameters(
        rule.ref,
        action.parameters,
        { trigger: instance.payload, st2kv: kv.st2kv },
        {
          decrypt: kv.decrypt,
        },
      );
    } catch (err) {
      await this.record(
        rule,
        instance,
        { status: 'failed', failure_reason: errorMessage(err) },
        enforcementId,
      );
      return true;
    }
    const user = this.systemUser;
    const ruleRef = { ref: rule.ref, id: rule.id, uid: rule.uid, name: rule.name, pack: rule.pack };
    const t = rule.trigger as { type: string; parameters?: Record<string, unknown> };
    let execution: ExecutionRecord;
    try {
      execution = await this.executions().request({
        id: executionId,
        // A claim taken afresh (not from a dead owner) means no run of this enforcement got as
        // far as requesting its execution: the id is not looked up (one read per webhook). A run
        // racing a takeover can take it afresh just after the breaker removed the dead owner's
        // claim; request() then finds the execution at its insert and returns it, as before.
        unstored: !got.from,
        action: action.ref,
        parameters,
        user,
        secrets: kv.secrets ?? [],
        context: {
          user,
          rule: { id: rule.id, ref: rule.ref, name: rule.name },
          trigger_instance: { id: instance.id, name: null },
          ...(trace.trace_id
            ? { trace_context: { trace_id: trace.trace_id, trace_tag: trace.trace_tag } }
            : {}),
        },
        links: {
          rule: ruleRef,
          trigger: {
            ref: ruleTriggerRef(rule),
            type: t.type,
            parameters: maskTriggerParameters(t.parameters),
          },
          trigger_type: { ref: t.type },
          trigger_instance: {
            id: instance.id,
            trigger: instance.trigger,
            occurrence_time: instance.occurrence_time,
          },
        },
      });
    } catch (err) {
      await this.record(
        rule,
        instance,
        { status: 'failed', failure_reason: `could not run action "${action.ref}": ${errorMessage(err)}` },
        enforcementId,
      );
      return true;
    }
    await this.record(rule, instance, { status: 'succeeded', execution_id: execution.id }, enforcementId);
    return true;
  }

  private async record(
    rule: RuleRecord,
    instance: TriggerInstanceRecord,
    outcome: { status: 'succeeded' | 'failed'; failure_reason?: string; execution_id?: string },
    id = newId(),
  ): Promise<RuleEnforcementRecord> {
    const enforcement: RuleEnforcementRecord = {
      id,
      trigger_instance_id: instance.id,
      rule: { ref: rule.ref, id: rule.id, uid: rule.uid },
      enforced_at: new Date().toISOString(),
      ...outcome,
    };
    try {
      await this.store.ruleEnforcements.insert(enforcement);
    } catch (err) {
      // A taken-over enforcement whose first owner stored it after all.
      if (err instanceof ConflictError && (await this.store.ruleEnforcements.get(id))) return enforcement;
      throw err;
    }
    if (outcome.status === 'failed')
      this.services.logger.warn(
        { rule: rule.ref, trigger_instance: instance.id, reason: outcome.failure_reason },
        'rule enforcement failed',
      );
    this.services.bus.publish('st2.rule_enforcement__create', enforcement);
    return enforcement;
  }
}
