import { workflowDriverFor } from '../workflows/engine/index.js';
import type { Runner } from './types.js';

/** `action-chain` (st2 §6.2): like orquesta, a durable run conducted by the workflow engine. */
export const actionChainRunner: Runner = {
  name: 'action-chain',
  inProcess: true,
  run(ctx) {
    return workflowDriverFor(ctx).startActionChain(ctx);
  },
};
