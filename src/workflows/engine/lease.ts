/**
 * One conductor at a time per workflow, across processes. FerretDB does not make conditional
 * updates atomic, so the lease is a claim (a unique insert) given back when the step is done.
 * A claim left by a process that died (its heartbeat in `workers` went silent) is taken over.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { SquallError } from '../../errors.js';
import { newId } from '../../ids.js';
import { SerialPerKey } from '../../serial.js';
import { breakStaleClaim, claimIsStale, claimWorker, type Store } from '../../store/index.js';

export interface LeaseOptions {
  store: Store;
  /** This process's worker id, as the executions service heartbeats it. */
  workerId: () => string;
  /** A worker silent this long is dead (config executions.dead_after_ms). */
  deadAfterMs: number;
  /** Give up (the caller retries later) after waiting this long. */
  waitMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WorkflowLeases {
  /** Steps of one workflow in this process wait in memory rather than poll the store. */
  private readonly local = new SerialPerKey();
  /**
   * Set inside a step (a lease held by this process), for work that must not wait for a lease
   * there. Work a step only sets off (a job it schedules) inherits the store too, so it says whether
   * that step still runs.
   */
  private readonly inside = new AsyncLocalStorage<{ running: boolean }>();

  constructor(private readonly options: LeaseOptions) {}

  /**
   * Runs `fn` holding the workflow's lease. `waitMs` overrides the options' wait for a lease held
   * by another process (steps of this process queue in memory whatever it says).
   */
  async with<T>(workflowExecutionId: string, fn: () => Promise<T>, wait?: { waitMs: number }): Promise<T> {
    const key = `wf:${workflowExecutionId}:lease`;
    const step = { running: true };
    const inStep = async () => {
      try {
        return await this.inside.run(step, fn);
      } finally {
        step.running = false;
      }
    };
    return this.local.run(key, () => this.holding(key, workflowExecutionId, inStep, wait?.waitMs));
  }

  /** Whether the caller runs inside a step of this process (a workflow's lease held for it). */
  insideStep(): boolean {
    return this.inside.getStore()?.running === true;
  }

  private async holding<T>(
    key: string,
    workflowExecutionId: string,
    fn: () => Promise<T>,
    waitMs = this.options.waitMs ?? 30_000,
  ): Promise<T> {
    const { store } = this.options;
    const owner = `${this.options.workerId()}#${newId()}`;
    const deadline = Date.now() + waitMs;
    let pause = 5;
    let lastStaleCheck = 0;
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
      await sleep(pause);
      pause = Math.min(pause * 2, 100);
    }
    try {
      return await fn();
    } finally {
      await store.release(key, owner);
    }
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
