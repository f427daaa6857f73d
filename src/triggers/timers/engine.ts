/**
 * Timers on Agenda (st2-reference.md §3.1, §12 "st2timersengine").
 *
 * A timer is a distinct (type, parameters) used by at least one enabled rule; it is identified by
 * the same ref the rules engine indexes rules by (`triggerRefFor`), and its instances carry that
 * ref, so only the rules bound to that schedule fire. Each timer is one Agenda job
 * (`timer.tick`) whose data holds the tick it waits for. st2 runs a singleton timers engine;
 * here any number of processes may run timers: every tick is claimed with store.claim() before
 * it is dispatched, so it fires exactly once even when two processes run the same job (FerretDB's
 * Agenda locks are not atomic).
 */
import os from 'node:os';
import type { Job } from 'agenda';
import { SquallError, errorMessage } from '../../errors.js';
import { idAt, newId } from '../../ids.js';
import { escapeRegex } from '../../regex.js';
import {
  claimOrTakeOver,
  storedIds,
  type RuleRecord,
  type TriggerInstanceRecord,
  type TriggerRecord,
} from '../../store/index.js';
import type { Services } from '../../service/index.js';
import { dispatchTrigger, triggerRefFor } from '../index.js';
import { planTicks, type CatchUpPolicy } from './catchup.js';
import { TIMER_TYPES, timerSchedule, type TimerSchedule, type TimerType } from './schedule.js';
import { splitRef } from '../../names.js';

export const TIMER_TICK_JOB = 'timer.tick';

export interface TimerSettings {
  catch_up: CatchUpPolicy;
  misfire_grace_ms: number;
  catch_up_limit: number;
  resync_interval_ms: number;
}

export const DEFAULT_TIMER_SETTINGS: TimerSettings = {
  catch_up: 'skip',
  misfire_grace_ms: 15_000,
  catch_up_limit: 1000,
  resync_interval_ms: 60_000,
};

export interface TimerJobData {
  ref: string;
  type: TimerType;
  parameters: Record<string, unknown>;
  /** First tick ever scheduled (IntervalTimer ticks are counted from it). */
  anchor: string | null;
  /** The tick this job waits for; null once a DateTimer has fired. */
  tick: string | null;
}

export interface DesiredTimer {
  ref: string;
  type: TimerType;
  parameters: Record<string, unknown>;
  schedule: TimerSchedule;
  rules: string[];
}

/** A timer as GET /api/v1/timers shows it: st2's Trigger shape plus Squall's schedule fields. */
export interface TimerView {
  id: string;
  ref: string;
  uid: string;
  name: string;
  pack: string;
  type: string;
  parameters: Record<string, unknown>;
  description: string;
  rules: string[];
  next_fire_time: string | null;
}

export interface ReconcileReport {
  created: string[];
  removed: string[];
  invalid: Array<{ rule: string; error: string }>;
}

const CLAIM_RETENTION_MS = 3_600_000;
const CLAIM_SWEEP_EVERY_MS = 600_000;

export class TimerEngine {
  /**
   * Names this engine in tick claims (several engines may share a process in tests): its
   * process's worker id, so that the tick claim of a process killed before it dispatched the
   * tick is taken over once the worker stops heartbeating.
   */
  readonly owner: string;
  private reconciling?: Promise<ReconcileReport>;
  private again = false;
  private readonly lastSweep = new Map<string, number>();
  /** Ticks this process is firing, by timer ref: a timer removed here is gone once they finish. */
  private readonly ticking = new Map<string, Promise<void>>();

  constructor(
    private readonly services: Services,
    readonly settings: TimerSettings,
    workerId?: string,
  ) {
    this.owner = `${workerId ?? `${os.hostname()}:${process.pid}`}#${newId()}`;
  }

  private get log() {
    return this.services.logger.child({ component: 'timers' });
  }

  /** Timers the enabled rules ask for, by ref. Rules with bad timer parameters are reported. */
  async desired(): Promise<{ timers: Map<string, DesiredTimer>; invalid: ReconcileReport['invalid'] }> {
    const rules = (await this.services.store.rules.find(
      { 'trigger.type': { $in: [...TIMER_TYPES] }, enabled: true },
      { sort: { ref: 1 } },
    )) as RuleRecord[];
    const timers = new Map<string, DesiredTimer>();
    const invalid: ReconcileReport['invalid'] = [];
    for (const rule of rules) {
      const t = rule.trigger as { type: TimerType; parameters?: Record<string, unknown> };
      const parameters = t.parameters ?? {};
      const ref = triggerRefFor(t.type, parameters);
      const known = timers.get(ref);
      if (known) {
        known.rules.push(rule.ref);
        continue;
      }
      try {
        timers.set(ref, {
          ref,
          type: t.type,
          parameters,
          schedule: timerSchedule(t.type, parameters),
          rules: [rule.ref],
        });
      } catch (err) {
        invalid.push({ rule: rule.ref, error: errorMessage(err) });
      }
    }
    return { timers, invalid };
  }

  private async timerJobs(): Promise<Array<{ id: string; data: TimerJobData; nextRunAt: Date | null }>> {
    const { jobs } = await this.services.scheduler.agenda.queryJobs({ name: TIMER_TICK_JOB });
    return jobs.map((j) => ({
      id: String(j._id),
      data: j.data as TimerJobData,
      nextRunAt: j.nextRunAt ? new Date(j.nextRunAt) : null,
    }));
  }

  /**
   * Brings the timer jobs in line with the enabled rules: one job per timer, none for timers no
   * enabled rule uses. Concurrent calls coalesce; the last rule change is always seen.
   */
  reconcile(): Promise<ReconcileReport> {
    if (this.reconciling) {
      this.again = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      try {
        let report: ReconcileReport;
        do {
          this.again = false;
          report = await this.reconcileOnce();
        } while (this.again);
        return report;
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<ReconcileReport> {
    const { timers, invalid } = await this.desired();
    for (const bad of invalid) {
      this.log.error(
        { rule: bad.rule, err: bad.error },
        `rule ${bad.rule}: timer not scheduled: ${bad.error}`,
      );
    }
    const jobs = await this.timerJobs();
    const report: ReconcileReport = { created: [], removed: [], invalid };
    const seen = new Set<string>();
    const agenda = this.services.scheduler.agenda;
    for (const job of [...jobs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
      const ref = job.data?.ref;
      // Unknown timers go; so do duplicates, which two processes creating the same timer at
      // once can leave behind on a store whose unique upserts are not atomic.
      if (!ref || !timers.has(ref) || seen.has(ref)) {
        await agenda.cancel({ id: job.id } as never);
        if (ref && !timers.has(ref)) {
          report.removed.push(ref);
          await this.ticking.get(ref)?.catch(() => undefined); // its failure is the tick job's to report
        }
        continue;
      }
      seen.add(ref);
    }
    const now = Date.now();
    for (const [ref, timer] of timers) {
      if (seen.has(ref)) continue;
      // One timer that cannot be scheduled never keeps the others from being scheduled.
      try {
        await this.createJob(ref, timer, now);
        report.created.push(ref);
      } catch (err) {
        for (const rule of timer.rules) invalid.push({ rule, error: errorMessage(err) });
        this.log.error({ timer: ref, rules: timer.rules, err }, `timer ${ref} could not be scheduled`);
      }
    }
    if (report.created.length || report.removed.length) {
      this.log.info({ created: report.created, removed: report.removed }, 'timers reconciled');
    }
    return report;
  }

  private async createJob(ref: string, timer: DesiredTimer, now: number): Promise<void> {
    const first = timer.schedule.first(now);
    const iso = first === null ? null : new Date(first).toISOString();
    const data: TimerJobData = {
      ref,
      type: timer.type,
      parameters: timer.parameters,
      anchor: iso,
      tick: iso,
    };
    const job = this.services.scheduler.agenda.create(TIMER_TICK_JOB, data);
    job.unique({ 'data.ref': ref }, { insertOnly: true });
    job.attrs.nextRunAt = first === null ? null : new Date(first);
    await job.save();
  }

  private async stillWanted(data: TimerJobData): Promise<boolean> {
    const rules = (await this.services.store.rules.find({
      'trigger.type': data.type,
      enabled: true,
    })) as RuleRecord[];
    return rules.some(
      (r) => triggerRefFor(data.type, (r.trigger as { parameters?: unknown }).parameters) === data.ref,
    );
  }

  /** The `timer.tick` job: fire the due ticks (catch-up policy), then wait for the next one. */
  async tick(data: TimerJobData, job: Job<TimerJobData>): Promise<void> {
    if (!data?.ref || !data.type) {
      throw new SquallError('TIMER_JOB_INVALID', 'timer.tick job has no timer ref or type in its data', {
        job: String(job.attrs._id),
        data,
      });
    }
    const ticked = this.tickNow(data, job);
    this.ticking.set(data.ref, ticked);
    try {
      await ticked;
    } finally {
      if (this.ticking.get(data.ref) === ticked) this.ticking.delete(data.ref);
    }
  }

  private async tickNow(data: TimerJobData, job: Job<TimerJobData>): Promise<void> {
    if (!(await this.stillWanted(data))) {
      // The last rule went away in a process whose event did not reach us; the timer stops.
      await job.remove();
      this.log.info({ timer: data.ref }, 'timer removed: no enabled rule uses it');
      return;
    }
    if (data.tick === null) return;
    const schedule = timerSchedule(data.type, data.parameters);
    const anchor = data.anchor ? Date.parse(data.anchor) : undefined;
    const plan = planTicks({
      due: Date.parse(data.tick),
      now: Date.now(),
      next: (after) => schedule.next(after, anchor),
      policy: this.settings.catch_up,
      graceMs: this.settings.misfire_grace_ms,
      limit: this.settings.catch_up_limit,
    });
    if (plan.missed) {
      this.log.warn(
        { timer: data.ref, missed: plan.missed, dropped: plan.dropped, policy: this.settings.catch_up },
        `timer ${data.ref} missed ${plan.missed} tick(s) (catch_up: ${this.settings.catch_up})`,
      );
    }
    let failure: unknown;
    for (const tick of plan.fire) {
      try {
        await this.fire(data, tick);
      } catch (err) {
        failure ??= err;
        this.log.error(
          { timer: data.ref, tick: new Date(tick).toISOString(), err },
          'timer tick could not be dispatched',
        );
      }
    }
    // Saved even when a dispatch failed, so one bad tick never stops the timer.
    const next = plan.next === null ? null : new Date(plan.next);
    job.attrs.data = { ...data, tick: next ? next.toISOString() : null };
    job.attrs.nextRunAt = next;
    await job.save();
    await this.sweepClaims(data.ref);
    if (failure) throw failure;
  }

  /** Fires one tick unless another process already has; returns whether this process fired it. */
  async fire(data: Pick<TimerJobData, 'ref' | 'type' | 'parameters'>, tickMs: number): Promise<boolean> {
    const executedAt = new Date(tickMs).toISOString();
    const key = `timer:${data.ref}:${executedAt}`;
    const got = await claimOrTakeOver(this.services.store, key, this.owner, {
      ttlMs: this.services.config.executions.dead_after_ms,
    });
    if (!got.claimed) return false;
    // A tick taken over from a dead process may have been stored by it: same id, stored once. The
    // tick's time leads the id (idAt), so ticks land at the end of the instances' index; a dead
    // owner of an older version named it with idFor alone, which storedIds finds.
    let instanceId = idAt(key, tickMs);
    let storedInstance: TriggerInstanceRecord | null | undefined;
    if (got.from) {
      const [found] = await storedIds(this.services.store.triggerInstances, [{ key, id: instanceId }]);
      // Just looked up: dispatch need not read it again.
      ({ id: instanceId, record: storedInstance = null } = found);
    }
    await dispatchTrigger(this.services, {
      instanceId,
      ...(storedInstance !== undefined ? { storedInstance } : {}),
      trigger: { type: data.type, parameters: data.parameters },
      payload: { executed_at: executedAt, schedule: data.parameters },
      source: `timer:${data.ref}`,
    });
    return true;
  }

  /** Claims of long-past ticks are of no use any more; drop them now and then. */
  private async sweepClaims(ref: string): Promise<void> {
    const now = Date.now();
    if (now - (this.lastSweep.get(ref) ?? 0) < CLAIM_SWEEP_EVERY_MS) return;
    this.lastSweep.set(ref, now);
    await this.services.store.claims.deleteMany({
      id: { $regex: `^timer:${escapeRegex(ref)}:` },
      claimed_at: { $lt: new Date(now - CLAIM_RETENTION_MS).toISOString() },
    });
  }

  /** Every timer in use, with its next fire time (st2 GET /timers). */
  async list(filter: { type?: string } = {}): Promise<TimerView[]> {
    const { timers } = await this.desired();
    const jobs = await this.timerJobs();
    const nextByRef = new Map(jobs.map((j) => [j.data?.ref, j.nextRunAt ? j.nextRunAt.toISOString() : null]));
    const refs = [...timers.keys()];
    const records = refs.length
      ? ((await this.services.store.triggers.find({ ref: { $in: refs } })) as TriggerRecord[])
      : [];
    const byRef = new Map(records.map((r) => [r.ref, r]));
    const out: TimerView[] = [];
    for (const timer of timers.values()) {
      if (filter.type && timer.type !== filter.type) continue;
      const { pack, name } = splitRef(timer.ref);
      out.push({
        id: byRef.get(timer.ref)?.id ?? name,
        ref: timer.ref,
        uid: `trigger:${pack}:${name}`,
        name,
        pack,
        type: timer.type,
        parameters: timer.parameters,
        description: timer.schedule.describe(),
        rules: timer.rules,
        next_fire_time: nextByRef.get(timer.ref) ?? null,
      });
    }
    return out;
  }
}
