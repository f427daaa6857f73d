/**
 * How the `inquirer` runner reaches the inquiries service of its process. A leaf module on
 * purpose (like src/workflows/engine/driver.ts): the runner imports it, and it imports nothing
 * that imports runners, so src/runners and src/inquiries do not form an import cycle.
 */
import { SquallError } from '../errors.js';
import type { RunnerContext, RunnerResult } from '../runners/types.js';

export interface InquiryDriver {
  /** The API URL of the process the service serves; runner contexts carry the same URL. */
  apiUrl(): string;
  /** Records the inquiry and returns `{status: 'pending', ...}`. */
  ask(ctx: RunnerContext): Promise<RunnerResult>;
}

const drivers: InquiryDriver[] = [];

export function registerInquiryDriver(driver: InquiryDriver): () => void {
  drivers.push(driver);
  return () => {
    const i = drivers.indexOf(driver);
    if (i >= 0) drivers.splice(i, 1);
  };
}

/** The inquiries service serving the process a runner context comes from. */
export function inquiryDriverFor(ctx: Pick<RunnerContext, 'apiUrl' | 'executionId'>): InquiryDriver {
  const same = drivers.filter((d) => d.apiUrl() === ctx.apiUrl);
  const chosen = same.at(-1) ?? (drivers.length === 1 ? drivers[0] : undefined);
  if (!chosen) {
    throw new SquallError(
      'INQUIRIES_MISSING',
      `No inquiries service runs in this process for execution ${ctx.executionId}: add inquiriesSubsystem() to the service's subsystems`,
      { execution: ctx.executionId, apiUrl: ctx.apiUrl, services: drivers.length },
    );
  }
  return chosen;
}
