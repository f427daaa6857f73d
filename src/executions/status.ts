import { SquallError } from '../errors.js';

/** st2's execution statuses (st2-reference.md §13.1). */
export const STATUSES = [
  'requested',
  'scheduled',
  'delayed',
  'running',
  'succeeded',
  'failed',
  'timeout',
  'abandoned',
  'canceling',
  'canceled',
  'pending',
  'pausing',
  'paused',
  'resuming',
] as const;
export type ExecutionStatus = (typeof STATUSES)[number];

export const COMPLETED_STATUSES: readonly ExecutionStatus[] = [
  'succeeded',
  'failed',
  'timeout',
  'canceled',
  'abandoned',
];
export const FAILED_STATUSES: readonly ExecutionStatus[] = ['failed', 'timeout', 'abandoned'];
export const CANCELABLE_STATUSES: readonly ExecutionStatus[] = [
  'requested',
  'scheduled',
  'delayed',
  'running',
  'pending',
  'pausing',
  'paused',
  'resuming',
];
/** Statuses in which a runner process is (or may be) doing work for the execution. */
export const ACTIVE_STATUSES: readonly ExecutionStatus[] = ['running', 'canceling', 'pausing', 'resuming'];

const DONE = ['succeeded', 'failed', 'timeout', 'canceled', 'abandoned'] as const;

/** Which status may follow which. Anything else is a bug or a race, and is refused. */
const TRANSITIONS: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  requested: ['scheduled', 'delayed', 'canceling', 'canceled', 'failed', 'abandoned'],
  delayed: ['requested', 'scheduled', 'canceling', 'canceled', 'failed', 'abandoned'],
  scheduled: ['running', 'delayed', 'canceling', 'canceled', 'failed', 'abandoned'],
  running: ['pending', 'pausing', 'paused', 'canceling', ...DONE],
  pending: ['running', 'pausing', 'paused', 'canceling', ...DONE],
  pausing: ['paused', 'running', 'resuming', 'canceling', ...DONE],
  paused: ['resuming', 'running', 'canceling', 'canceled', 'abandoned', 'failed'],
  resuming: ['running', 'pausing', 'paused', 'canceling', ...DONE],
  canceling: ['canceled', 'succeeded', 'failed', 'timeout', 'abandoned'],
  succeeded: [],
  failed: [],
  timeout: [],
  abandoned: [],
  canceled: [],
};

export function isCompleted(status: string): boolean {
  return (COMPLETED_STATUSES as readonly string[]).includes(status);
}

export function canTransition(from: string, to: string): boolean {
  return (TRANSITIONS[from as ExecutionStatus] ?? []).includes(to as ExecutionStatus);
}

export function assertTransition(id: string, from: string, to: string): void {
  if (!canTransition(from, to)) {
    throw new SquallError(
      'ILLEGAL_TRANSITION',
      `execution ${id} cannot go from "${from}" to "${to}"`,
      { id, from, to, allowed: TRANSITIONS[from as ExecutionStatus] ?? [] },
      409,
    );
  }
}
