import os from 'node:os';
import type { Services } from '../service/index.js';
import type { ExecutionRecord } from '../store/index.js';
import type { ExecutionService } from './service.js';
import { RUN_JOB, completionClaim } from './service.js';
import { liveExecutions } from './live.js';
import { breakStaleClaim, claimOrTakeOver, claimWorker } from '../store/index.js';

export const RECOVER_JOB = 'execution.recover';

export interface RecoveryOptions {
  /** How often this process records that it is alive. */
  heartbeatMs: number;
  /** A worker silent for this long is dead; its running executions are abandoned (or re-run). */
  deadAfterMs: number;
  /** How often the consistency check runs. */
  checkEveryMs: number;
}

/**
 * No execution stays in `running` forever (st2 #4716): every process heartbeats, and a periodic
 * job marks the executions of dead workers `abandoned` — or runs them again when the action
 * declares itself idempotent — and re-queues requests that never reached the scheduler.
 */
export class ExecutionRecovery {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly services: Services,
    private readonly executions: ExecutionService,
    private readonly options: RecoveryOptions,
  ) {}

  async start(): Promise<void> {
    await this.heartbeat();
    const entered = await liveExecutions(this.services).backfill();
    if (entered) this.services.logger.info({ entered }, 'entered open executions in the live register');
    const labelled = await liveExecutions(this.services).labelDelayed();
    if (labelled)
      this.services.logger.info({ labelled }, 'gave delayed executions their action in the live register');
    this.timer = setInterval(
      () => void this.heartbeat().catch((err) => this.services.logger.warn({ err }, 'heartbeat failed')),
      this.options.heartbeatMs,
    );
    this.timer.unref();
    this.services.scheduler.define(
      RECOVER_JOB,
      async () => {
        await this.check();
      },
      // A check locked by a process that died is taken over after dead_after_ms, not Agenda's
      // default lock lifetime (10 min).
      { concurrency: 1, lockLifetimeMs: this.options.deadAfterMs, skipWhileRunning: true },
    );
    await this.services.scheduler.every(
      this.options.checkEveryMs,
      RECOVER_JOB,
      {},
      { 'data.kind': 'recover' },
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.services.store.workers.deleteOne({ id: this.executions.workerId });
  }

  /** When the oldest heartbeat still being written started, and how long the last one took. */
  private beatStartedAt?: number;
  private lastBeatMs = 0;

  /**
   * How slow the store is for this process right now, as its own heartbeat sees it: the last
   * write's duration, or the age of the oldest one still in flight (a beat starts every
   * heartbeat_ms whether or not the last one is done: the newest one's age never exceeded that).
   */
  storeLagMs(): number {
    const inFlight = this.beatStartedAt === undefined ? 0 : Date.now() - this.beatStartedAt;
    return Math.max(this.lastBeatMs, inFlight);
  }

  /** Records that this process is alive (every heartbeat_ms). */
  async heartbeat(): Promise<void> {
    const started = Date.now();
    this.beatStartedAt ??= started;
    try {
      await this.writeBeat();
      this.lastBeatMs = Date.now() - started;
    } finally {
      if (this.beatStartedAt === started) this.beatStartedAt = undefined;
    }
  }

  private async writeBeat(): Promise<void> {
    await this.services.store.workers.updateOne(
      { id: this.executions.workerId },
      {
        $set: {
          pid: process.pid,
          host: os.hostname(),
          heartbeat_at: new Date().toISOString(),
          running: this.executions.runningHere(),
        },
      },
      { upsert: true },
    );
  }

  /**
   * One repair by one process: a repair claimed by a process that died before doing it is taken
   * over (each repair is a guarded update or a job the run claim de-duplicates: safe to repeat).
   */
  private async claim(key: string): Promise<boolean> {
    const got = await claimOrTakeOver(this.services.store, key, this.executions.workerId, {
      ttlMs: this.options.deadAfterMs,
    });
    return got.claimed;
  }

  /** One pass of the consistency check; returns what it repaired. */
  async check(): Promise<{ abandoned: string[]; rerun: string[]; requeued: string[]; deferred?: boolean }> {
    const { store, logger } = this.services;
    const report = { abandoned: [] as string[], rerun: [] as string[], requeued: [] as string[] };
    // A store this slow for us is as slow for the others: their heartbeats may be late without
    // them being dead (seen with a saturated FerretDB: live runners' work was abandoned).
    const lag = this.storeLagMs();
    if (lag > this.options.deadAfterMs / 2) {
      logger.warn(
        { heartbeat_ms: lag, dead_after_ms: this.options.deadAfterMs },
        'the store is slow (this process heartbeat took too long): no worker is judged dead in this check',
      );
      return { ...report, deferred: true };
    }
    const deadline = new Date(Date.now() - this.options.deadAfterMs).toISOString();
    const alive = new Set((await store.workers.find({ heartbeat_at: { $gte: deadline } })).map((w) => w.id));
    alive.add(this.executions.workerId);
    const live = liveExecutions(this.services);
    const active = await live.read(await live.entries(['running', 'canceling']), ['running', 'canceling']);
    for (const execution of active) {
      // Durable executions (workflows) have no worker process; their engines own them.
      if ((execution as { durable?: boolean }).durable) continue;
      const worker = String((execution as { worker?: string }).worker ?? '');
      if (alive.has(worker)) continue;
      // A worker that died between claiming the completion and writing it would keep it forever,
      // and neither the re-run nor the abandon below could complete the execution.
      const completion = await store.claims.get(completionClaim(execution.id));
      if (completion && !alive.has(claimWorker(completion.owner)))
        await breakStaleClaim(store, completion, this.executions.workerId, this.options.deadAfterMs);
      const action = await store.actions.findOne({ ref: execution.action.ref });
      const idempotent = Boolean(action && (action as { idempotent?: boolean }).idempotent);
      if (idempotent && execution.status === 'running') {
        const attempt = Number((execution as { attempt?: number }).attempt ?? 0) + 1;
        // One process re-runs a given attempt: conditional updates are not atomic on FerretDB.
        if (!(await this.claim(`recover:${execution.id}:${attempt}`))) continue;
        const now = new Date().toISOString();
        const updated = await store.executions.updateOne(
          { id: execution.id, status: 'running' },
          {
            // scheduled_by: a re-run whose job this process dies before creating is re-queued.
            $set: { status: 'scheduled', attempt, worker: null, scheduled_by: this.executions.workerId },
            $push: {
              log: {
                status: 'scheduled',
                timestamp: now,
                // What was observed: its heartbeat lapsed. It may be slow rather than dead (its
                // run then leaves the outcome to this attempt).
                reason: `worker ${worker} sent no heartbeat for ${this.options.deadAfterMs} ms; re-running idempotent action (attempt ${attempt})`,
              },
            },
          },
        );
        if (updated) {
          await live.moved(execution.id, 'scheduled');
          await this.services.scheduler.now(RUN_JOB, { id: execution.id, attempt });
          report.rerun.push(execution.id);
        }
        continue;
      }
      await this.executions
        .setStatus(execution.id, execution.status === 'canceling' ? 'canceled' : 'abandoned', {
          reason: `worker ${worker || 'unknown'} stopped sending heartbeats`,
          set: {
            result: {
              error: `The process running this execution (${worker || 'unknown'}) died; the execution was abandoned.`,
            },
          },
          expect: [execution.status],
        })
        .then(() => report.abandoned.push(execution.id))
        .catch((err) => logger.warn({ err, execution: execution.id }, 'could not abandon execution'));
    }
    // A run claimed by a worker that died before it started the action: give it a new attempt
    // (the action never ran, so this is safe even when it is not idempotent).
    // A run waiting out its `delay` is `delayed` (as st2 shows it) with `delayed_until`; one a
    // concurrency policy delayed has no run job and is left to the policy.
    const waiting = await live.read(await live.entries(['scheduled', 'delayed']), ['scheduled', 'delayed']);
    for (const execution of waiting) {
      if (execution.status === 'delayed' && !(execution as { delayed_until?: string }).delayed_until)
        continue;
      const attempt = Number((execution as { attempt?: number }).attempt ?? 0);
      const claim = await store.claims.get(`execution:${execution.id}:attempt:${attempt}`);
      if (!claim) {
        // Never claimed: if the process that scheduled it died, its job may never have been
        // created. Queue it again, once per attempt (a duplicate job is dropped by the claim).
        const by = String((execution as { scheduled_by?: string }).scheduled_by ?? '');
        const due = Date.parse(execution.start_timestamp) + Number(execution.delay ?? 0) <= Date.now();
        if (!due || alive.has(by)) continue;
        if (!(await this.claim(`requeue:${execution.id}:${attempt}`))) continue;
        await this.services.scheduler.now(RUN_JOB, { id: execution.id, attempt });
        report.requeued.push(execution.id);
        continue;
      }
      if (alive.has(claim.owner)) continue;
      const taker = { by: this.executions.workerId, deadAfterMs: this.options.deadAfterMs };
      if (await giveNewAttempt(this.services, execution, claim.owner, taker))
        report.requeued.push(execution.id);
    }
    const stale = new Date(Date.now() - Math.max(this.options.deadAfterMs, 10_000)).toISOString();
    // A live requester is still scheduling it (a slow store can take seconds): scheduling it here
    // too made one of the two fail with ILLEGAL_TRANSITION — the API answered 500 for an
    // execution that then ran. It is given much longer before it counts as lost.
    const staleAlive = Date.now() - Math.max(this.options.deadAfterMs * 4, 60_000);
    const requested = await live.read(await live.entries(['requested'], stale), ['requested']);
    for (const execution of requested.filter((e) => e.start_timestamp < stale)) {
      const by = String((execution as { requested_by?: string }).requested_by ?? '');
      if (alive.has(by) && Date.parse(execution.start_timestamp) > staleAlive) continue;
      await this.executions
        .schedule(execution)
        .catch((err) => logger.warn({ err, execution: execution.id }, 'could not re-queue'));
      report.requeued.push(execution.id);
    }
    if (report.abandoned.length || report.rerun.length || report.requeued.length)
      logger.warn(report, 'recovered executions');
    return report;
  }
}

/**
 * The next attempt for a run that `holder` claimed and never started (its status is still
 * `scheduled`, or `delayed` with a due job), now that `holder` sends no heartbeat; true when this
 * caller gave it. The recovery check and the sweep (src/scale/sweep.ts) both look for such runs,
 * every check_every_ms, in whichever processes lock their jobs: each gave the attempt on its own,
 * and the second one's write to the execution could come as the new attempt's runner wrote
 * `running`. FerretDB applies an update as a read and a write of the whole document, so one of two
 * writes at once can be lost (88 of 300 such pairs lost the `running`, bench/README): the execution
 * is back to `scheduled`, and the runner, its action run, is refused the completion and records it
 * `failed` (a candidate for runner-kill's one CI failure). So one process gives each attempt (the `recover:<id>:<attempt>` claim, which the re-run of
 * an idempotent action takes too), only while the execution is still at the attempt it read, and
 * the run job is queued once the attempt is stored.
 */
export async function giveNewAttempt(
  services: Services,
  execution: ExecutionRecord,
  holder: string,
  taker: { by: string; deadAfterMs: number },
): Promise<boolean> {
  const { store } = services;
  const { by, deadAfterMs } = taker;
  const stored = (execution as { attempt?: number }).attempt;
  const attempt = Number(stored ?? 0);
  const next = attempt + 1;
  const got = await claimOrTakeOver(store, `recover:${execution.id}:${next}`, by, { ttlMs: deadAfterMs });
  if (!got.claimed) return false;
  const updated = await store.executions.updateOne(
    { id: execution.id, status: execution.status, ...(stored === undefined ? {} : { attempt }) },
    {
      $set: { attempt: next },
      $push: {
        log: {
          status: execution.status,
          timestamp: new Date().toISOString(),
          // What was observed: the claimant's heartbeat lapsed. It may be slow rather than dead.
          reason: `worker ${holder} sent no heartbeat for ${deadAfterMs} ms and had not started it; attempt ${next}`,
        },
      },
    },
  );
  if (!updated) return false;
  await services.scheduler.now(RUN_JOB, { id: execution.id, attempt: next });
  return true;
}
