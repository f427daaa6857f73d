/**
 * How the `inquirer` runner and the chat built-ins reach the inquiries service of their process.
 * A leaf module on purpose (like src/workflows/engine/driver.ts): the runner and src/chatops import
 * it, and it imports nothing that imports them (types only), so no import cycle forms.
 */
import { SquallError } from '../errors.js';
import type { RunnerContext, RunnerResult } from '../runners/index.js';
import type { Responder, RespondOutcome } from './service.js';

export interface InquiryDriver {
  /** The API URL of the process the service serves; runner contexts carry the same URL. */
  apiUrl(): string;
  /** Records the inquiry and returns `{status: 'pending', ...}`. */
  ask(ctx: RunnerContext): Promise<RunnerResult>;
  /** Answers an inquiry with a response object (InquiryService.respond). */
  respond(id: string, response: unknown, who: Responder): Promise<RespondOutcome>;
  /**
   * Answers with typed `key=value` answers (the `respond` chat command): each is coerced to its
   * property's type in the inquiry's schema first.
   */
  respondWithAnswers(id: string, answers: Record<string, string>, who: Responder): Promise<RespondOutcome>;
}

const drivers: InquiryDriver[] = [];

export function registerInquiryDriver(driver: InquiryDriver): () => void {
  drivers.push(driver);
  return () => {
    const i = drivers.indexOf(driver);
    if (i >= 0) drivers.splice(i, 1);
  };
}

/** The driver serving the process whose API listens at `apiUrl` (or the only one), if any. */
export function inquiryDriverAt(apiUrl: string): InquiryDriver | undefined {
  const same = drivers.filter((d) => d.apiUrl() === apiUrl);
  return same.at(-1) ?? (drivers.length === 1 ? drivers[0] : undefined);
}

/** The inquiries service serving the process a runner context comes from. */
export function inquiryDriverFor(ctx: Pick<RunnerContext, 'apiUrl' | 'executionId'>): InquiryDriver {
  const chosen = inquiryDriverAt(ctx.apiUrl);
  if (!chosen) {
    throw new SquallError(
      'INQUIRIES_MISSING',
      `No inquiries service runs in this process for execution ${ctx.executionId}: add inquiriesSubsystem() to the service's subsystems`,
      { execution: ctx.executionId, apiUrl: ctx.apiUrl, services: drivers.length },
    );
  }
  return chosen;
}
