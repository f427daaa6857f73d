import { inquiryDriverFor } from '../inquiries/index.js';
import type { Runner } from './types.js';

/**
 * `inquirer` (core.ask, st2 §7): records an inquiry and leaves the execution `pending`; the
 * inquiries service completes it when a response is accepted, denied or expires.
 */
export const inquirerRunner: Runner = {
  name: 'inquirer',
  inProcess: true,
  run(ctx) {
    return inquiryDriverFor(ctx).ask(ctx);
  },
};
