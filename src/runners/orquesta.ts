import { workflowDriverFor } from '../workflows/engine/index.js';
import type { Runner } from './types.js';

/**
 * `orquesta` (st2 §1.1, §6.1): hands the workflow to the engine, which persists its state and
 * requests the start tasks. The execution stays `running` and the engine completes it later.
 */
export const orquestaRunner: Runner = {
  name: 'orquesta',
  inProcess: true,
  run(ctx) {
    return workflowDriverFor(ctx).startOrquesta(ctx);
  },
};
