export { parseChainSpec, type ChainSpec, type ChainTask } from './spec.js';
export {
  ActionChainConductor,
  type ChainCompletion,
  type ChainOptions,
  type ChainRequest,
  type ChainState,
  type ChainStatus,
  type ChainTaskRecord,
} from './conductor.js';
