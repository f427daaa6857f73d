/**
 * How the `inquirer` runner and the chat built-ins reach the inquiries service of their process.
 * A leaf module on purpose (src/leaf-registry.ts): the runner and src/chatops import
 * it, and it imports nothing that imports them (types only), so no import cycle forms.
 */
import { leafRegistry } from '../leaf-registry.js';
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

const drivers = leafRegistry<InquiryDriver>('INQUIRIES_MISSING', 'inquiries service', 'inquiriesSubsystem');

export const registerInquiryDriver = drivers.register;

/** The driver serving the process whose API listens at `apiUrl` (or the only one), if any. */
export const inquiryDriverAt = drivers.at;

/** The inquiries service serving the process a runner context comes from. */
export const inquiryDriverFor = drivers.for;
