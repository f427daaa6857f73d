import type { Services } from '../service/index.js';
import { type ExecutionRecord, resumeClaimedWork, type ClaimedWork } from '../store/index.js';
import {
  getExecutionService,
  giveNewAttempt,
  liveExecutions,
  storeTooSlowToJudge,
} from '../executions/index.js';

export const SWEEP_JOB = 'scale.sweep';
const RUN_JOB = 'execution.run';

export interface SweepReport {
  /** Re-queued under the same attempt: the job was lost or locked by a dead process before it claimed. */
  requeued: string[];
  /** Given a new attempt: a dead process claimed them but never started the runner. */
  reattempted: string[];
  /** Set when claimed runs were left alone: the store is too slow to judge their claimants dead. */
  deferred?: boolean;
}

/**
 * Complements crash recovery (executions/recovery.ts, which handles `running` executions of dead
 * workers): a runner killed between locking an `execution.run` job and starting the action
 * leaves the execution `scheduled` — its Agenda lock only expires after
 * `scheduler.lock_lifetime_ms` (30 s by default), and its per-attempt claim never. This pass finds them:
 *  - claimed by a dead worker → the action never started (status would be running), so a new
 *    attempt is safe even for non-idempotent actions;
 *  - unclaimed, with its job locked for longer than `executions.dead_after_ms` or missing →
 *    the same attempt is queued again; the per-attempt claim still lets only one run happen.
 */
export async function sweepScheduled(services: Services, limit = 200): Promise<SweepReport> {
  const { store, scheduler, config, logger } = services;
  const report: SweepReport = { requeued: [], reattempted: [] };
  const deadAfter = config.executions.dead_after_ms;
  const now = Date.now();
  const stale = new Date(now - deadAfter).toISOString();
  const live = liveExecutions(services);
  // Only entries scheduled for longer than dead_after_ms can be stuck; the rest are not read.
  const entries = (await live.entries(['scheduled'], stale)).slice(0, limit * 5);
  if (!entries.length) return report;
  // The run jobs, read once per pass: asked per candidate, a backed-up queue of Q executions cost
  // Q queries that each read all Q jobs (FerretDB scans for any filter but a bare _id), every pass.
  // An execution whose job still waits, or is held by a live process, runs by itself: its record
  // is not read at all. Under a backlog every entry is older than dead_after_ms, and reading each
  // one every pass made the store slower the further behind it was.
  const runJobs = await scheduler.liveJobData<{ id?: string; attempt?: number }>(RUN_JOB, now - deadAfter);
  const queued = new Set(runJobs.map((d) => d?.id));
  const candidates = await live.read(
    entries.filter((e) => !queued.has(e.id)),
    ['scheduled'],
  );
  const deadline = new Date(now - deadAfter).toISOString();
  let alive: Set<string> | undefined;
  for (const execution of candidates) {
    if (report.requeued.length + report.reattempted.length >= limit) break;
    const scheduledAt = lastScheduledAt(execution);
    const due = Date.parse(scheduledAt ?? execution.start_timestamp) + Number(execution.delay ?? 0);
    if (!scheduledAt || scheduledAt > stale || due > now - deadAfter) continue;
    const attempt = Number(execution.attempt ?? 0);
    const claim = await store.claims.get(`execution:${execution.id}:attempt:${attempt}`);
    if (claim) {
      // Too slow a store for us is as slow for the claimant: its heartbeat may be late without it
      // being dead (the recovery check holds back too). Its run is left to it, for now.
      if (storeTooSlowToJudge(services)) {
        report.deferred = true;
        continue;
      }
      alive ??= new Set(
        (await store.workers.find({ heartbeat_at: { $gte: deadline } }, { projection: { id: 1 } })).map(
          (w) => w.id,
        ),
      );
      if (alive.has(claim.owner)) continue;
      const taker = { by: getExecutionService(services).workerId, deadAfterMs: deadAfter };
      if (await giveNewAttempt(services, execution, claim.owner, taker))
        report.reattempted.push(execution.id);
      continue;
    }
    // A job still waiting in the queue, or held by a live process, will run by itself.
    if (runJobs.some((d) => d?.id === execution.id && d.attempt === attempt)) continue;
    await scheduler.now(RUN_JOB, { id: execution.id, attempt });
    report.requeued.push(execution.id);
  }
  if (report.requeued.length || report.reattempted.length)
    logger.warn(
      { ...report, dead_after_ms: deadAfter },
      `sweep: re-queued scheduled executions whose lease expired (job lock or claimant heartbeat older than ${deadAfter} ms); the holder may be slow rather than dead`,
    );
  return report;
}

function lastScheduledAt(execution: ExecutionRecord): string | undefined {
  const log = Array.isArray(execution.log) ? execution.log : [];
  for (let i = log.length - 1; i >= 0; i--) if (log[i].status === 'scheduled') return log[i].timestamp;
  return undefined;
}

const claimedWorks = new WeakMap<Services, Map<string, ClaimedWork>>();

/**
 * Declares work this process does once per claim (store/claims.ts doOnce), so that the claims a
 * dead process left open are taken over here (sweepClaimedWork). Returns the work, for doOnce.
 */
export function registerClaimedWork(services: Services, work: ClaimedWork): ClaimedWork {
  let works = claimedWorks.get(services);
  if (!works) claimedWorks.set(services, (works = new Map()));
  works.set(work.prefix, work);
  return work;
}

/**
 * Takes over and does the claimed work (retries, chat notifications and prompts) whose owner died
 * between claiming and finishing it. Every process runs it for the work it declared (a process
 * without chat cannot post a chat message), every `executions.check_every_ms`.
 */
export async function sweepClaimedWork(services: Services, owner: () => string): Promise<string[]> {
  const works = claimedWorks.get(services);
  if (!works?.size) return [];
  const report = await resumeClaimedWork(
    services.store,
    works.values(),
    owner(),
    services.config.executions.dead_after_ms,
  );
  for (const { key, err } of report.failed)
    services.logger.error(
      { err, claim: key },
      'sweep: claimed work taken over after its lease expired failed',
    );
  if (report.resumed.length)
    services.logger.warn(
      { claims: report.resumed, dead_after_ms: services.config.executions.dead_after_ms },
      'sweep: did claimed work whose lease expired (its owner sent no heartbeat within dead_after_ms; slow or dead)',
    );
  return report.resumed;
}
