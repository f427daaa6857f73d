/**
 * One conductor at a time per workflow, across processes. FerretDB does not make conditional
 * updates atomic, so the lease is a claim (a unique insert) given back when the step is done.
 * A claim left by a process that died (its heartbeat in `workers` went silent) is taken over.
 *
 * A step that asks to (`keep`) keeps the claim a moment after it ends (KEEP_MS), for the next step
 * of the same workflow in this process: a sequential workflow's next step comes as soon as the
 * child it requested has run here, and then claims nothing, and knows that no other step has run
 * since (it gets what the last one kept: `carried`). A claim is kept for at most HOLD_MS in a row, so that a step of
 * another process (a child that ran there, a pause or cancel asked there) waits no longer than that.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SquallError } from '../../errors.js';
import { newId } from '../../ids.js';
import { SerialPerKey } from '../../serial.js';
import type { Logger } from '../../log/index.js';
import { breakStaleClaim, claimIsStale, claimWorker, type Store } from '../../store/index.js';

export interface LeaseOptions {
  store: Store;
  /** This process's worker id, as the executions service heartbeats it. */
  workerId: () => string;
  /** A worker silent this long is dead (config executions.dead_after_ms). */
  deadAfterMs: number;
  /** Give up (the caller retries later) after waiting this long. */
  waitMs?: number;
  logger: Logger;
}

/**
 * How long a kept claim waits for the next step of its workflow in this process. The engine keeps
 * it only while every child it waits for runs here in one step (core.noop): under a millisecond on
 * the embedded store, a few round trips on MongoDB (10–100 ms on a loaded machine). A later step
 * claims again.
 */
export const KEEP_MS = 250;
/** At most this long in a row under one claim kept from step to step (see the header). */
export const HOLD_MS = 1000;
/**
 * After HOLD_MS, when a step of another process waits (it says so with a claim of its own while
 * it polls), this process claims the lease again no sooner than this: longer than that step's
 * longest pause between polls (100 ms), so that it gets the lease.
 */
export const YIELD_MS = 150;

const waitKey = (key: string) => `${key}:waiting`;

/** What a step knows of its lease, and what it asks of it. */
export interface LeaseStep<C> {
  /**
   * What the last step of this process on this workflow kept with the claim, when the claim was
   * kept since (that step ended without an error): no other step has run on the workflow since.
   */
  readonly carried: C | undefined;
  /** Set by the step: keep the claim a moment for the next step, which gets this as `carried`. */
  keep: C | undefined;
}

interface Kept<C> {
  owner: string;
  /** When the claim was inserted. */
  since: number;
  carried: C | undefined;
  timer: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WorkflowLeases<C = unknown> {
  /** Steps of one workflow in this process wait in memory rather than poll the store. */
  private readonly local = new SerialPerKey();
  /**
   * Set inside a step (a lease held by this process), for work that must not wait for a lease
   * there. Work a step only sets off (a job it schedules) inherits the store too, so it says whether
   * that step still runs.
   */
  private readonly inside = new AsyncLocalStorage<{ running: boolean }>();
  /** Claims kept between steps, by lease key. */
  private readonly kept = new Map<string, Kept<C>>();
  /** Leases this process lets a waiting step of another process take first: not claimed before then. */
  private readonly yielding = new Map<string, number>();

  constructor(private readonly options: LeaseOptions) {}

  /**
   * Runs `fn` holding the workflow's lease. `waitMs` overrides the options' wait for a lease held
   * by another process (steps of this process queue in memory whatever it says).
   */
  async with<T>(
    workflowExecutionId: string,
    fn: (lease: LeaseStep<C>) => Promise<T>,
    wait?: { waitMs: number },
  ): Promise<T> {
    const key = `wf:${workflowExecutionId}:lease`;
    const step = { running: true };
    const inStep = async (lease: LeaseStep<C>) => {
      try {
        return await this.inside.run(step, () => fn(lease));
      } finally {
        step.running = false;
      }
    };
    return this.local.run(key, () => this.holding(key, workflowExecutionId, inStep, wait?.waitMs));
  }

  /**
   * Gives back a claim kept for a next step, and drops what it carried (a step whose commit failed):
   * a step already queued here takes the claim with nothing carried.
   */
  async letGo(workflowExecutionId: string): Promise<void> {
    const key = `wf:${workflowExecutionId}:lease`;
    const kept = this.kept.get(key);
    if (!kept) return;
    kept.carried = undefined;
    await this.local.run(key, () => this.release(key, kept));
  }

  /** Gives back every claim kept for a next step (the process stops). */
  async letGoAll(): Promise<void> {
    for (const [key, kept] of [...this.kept]) await this.local.run(key, () => this.release(key, kept));
  }

  /** Whether the caller runs inside a step of this process (a workflow's lease held for it). */
  insideStep(): boolean {
    return this.inside.getStore()?.running === true;
  }

  private async holding<T>(
    key: string,
    workflowExecutionId: string,
    fn: (lease: LeaseStep<C>) => Promise<T>,
    waitMs = this.options.waitMs ?? 30_000,
  ): Promise<T> {
    const { store } = this.options;
    const kept = this.kept.get(key);
    if (kept) {
      clearTimeout(kept.timer);
      this.kept.delete(key);
      return this.stepping(key, kept.owner, kept.since, kept.carried, fn);
    }
    // This process let the lease go after keeping it HOLD_MS, to a step of another process that
    // waits for it: that step's next poll finds it free.
    const yieldUntil = this.yielding.get(key);
    if (yieldUntil !== undefined) {
      this.yielding.delete(key);
      if (yieldUntil > Date.now()) await sleep(yieldUntil - Date.now());
    }
    const owner = `${this.options.workerId()}#${newId()}`;
    const deadline = Date.now() + waitMs;
    let pause = 5;
    let lastStaleCheck = 0;
    let waiting = false;
    try {
      while (!(await store.claim(key, owner))) {
        if (Date.now() - lastStaleCheck > 250) {
          lastStaleCheck = Date.now();
          if (await this.breakIfStale(key)) continue;
        }
        if (Date.now() > deadline) {
          const holder = await store.claims.get(key);
          throw new SquallError(
            'WORKFLOW_BUSY',
            `Workflow ${workflowExecutionId} is being conducted by ${String(holder?.owner ?? 'another step')}; gave up waiting after ${waitMs} ms`,
            { workflow_execution_id: workflowExecutionId, holder: holder?.owner },
            503,
          );
        }
        // Says that a step waits, for a process that keeps the lease from step to step (stepping()).
        if (!waiting) waiting = await store.claim(waitKey(key), owner);
        await sleep(pause);
        pause = Math.min(pause * 2, 100);
      }
    } finally {
      if (waiting) await store.release(waitKey(key), owner);
    }
    return this.stepping(key, owner, Date.now(), undefined, fn);
  }

  /** Runs a step under the claim `owner` holds; gives the claim back after it, or keeps it. */
  private async stepping<T>(
    key: string,
    owner: string,
    since: number,
    carried: C | undefined,
    fn: (lease: LeaseStep<C>) => Promise<T>,
  ): Promise<T> {
    const lease: LeaseStep<C> = { carried, keep: undefined };
    let ok = false;
    try {
      const value = await fn(lease);
      ok = true;
      return value;
    } finally {
      const held = Date.now() - since;
      if (ok && lease.keep !== undefined && held < HOLD_MS) {
        const kept: Kept<C> = {
          owner,
          since,
          carried: lease.keep,
          timer: undefined as unknown as NodeJS.Timeout,
        };
        // Given back through the queue of this workflow's steps, so never in the middle of one.
        kept.timer = setTimeout(() => {
          this.local
            .run(key, () => this.release(key, kept))
            .catch((err: unknown) =>
              // Left in place, the claim of a live process is never taken over: every later step of
              // the workflow gives up as busy (until this process stops). Said loudly.
              this.options.logger.error(
                { err, lease: key },
                'could not give back a workflow lease kept between steps',
              ),
            );
        }, KEEP_MS);
        kept.timer.unref();
        this.kept.set(key, kept);
      } else {
        await this.options.store.release(key, owner);
        // Kept HOLD_MS in a row: a step of another process waiting for it goes first.
        if (ok && lease.keep !== undefined && (await this.othersWait(key)))
          this.yielding.set(key, Date.now() + YIELD_MS);
      }
    }
  }

  /** Whether a step of another (live) process waits for the lease `key`. */
  private async othersWait(key: string): Promise<boolean> {
    const { store } = this.options;
    const waiter = await store.claims.get(waitKey(key));
    if (!waiter || claimWorker(waiter.owner) === this.options.workerId()) return false;
    if (!(await claimIsStale(store, waiter, this.options.deadAfterMs))) return true;
    await breakStaleClaim(store, waiter, this.options.workerId(), this.options.deadAfterMs);
    return false;
  }

  /** Gives back `kept`, unless a step has taken it since. */
  private async release(key: string, kept: Kept<C>): Promise<void> {
    if (this.kept.get(key) !== kept) return;
    clearTimeout(kept.timer);
    this.kept.delete(key);
    await this.options.store.release(key, kept.owner);
  }

  /** Removes the claim when its owner's process is dead; true when the caller should retry at once. */
  private async breakIfStale(key: string): Promise<boolean> {
    const { store } = this.options;
    const claim = await store.claims.get(key);
    if (!claim) return true;
    if (claimWorker(claim.owner) === this.options.workerId()) return false;
    if (!(await claimIsStale(store, claim, this.options.deadAfterMs))) return false;
    await breakStaleClaim(store, claim, this.options.workerId(), this.options.deadAfterMs);
    return true;
  }
}
