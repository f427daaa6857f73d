/** Workflow engines (st2-reference.md §6): Orquesta, ActionChain and the expression facade. */
export * as orquesta from './orquesta/index.js';
export * as actionchain from './actionchain/index.js';
export {
  evaluateExpression,
  workflowFunctions,
  hasExpression,
  isYaql,
  isJinja,
  extractExpressions,
  checkExpressionSyntax,
  collectContextReferences,
  type ExpressionScope,
} from './expressions/index.js';
export {
  OrquestaConductor,
  createConductor,
  inspect,
  rehearse,
  parseWorkflowSpec,
} from './orquesta/index.js';
export { ActionChainConductor, parseChainSpec } from './actionchain/index.js';
