import type { Runner } from './types.js';

/** `noop`: a static successful result (st2 §1.3). */
export const noopRunner: Runner = {
  name: 'noop',
  inProcess: true,
  immediate: true,
  run() {
    return Promise.resolve({
      status: 'succeeded',
      result: { failed: false, succeeded: true, return_code: 0 },
    });
  },
};
