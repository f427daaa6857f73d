export { eventsSubsystem, CONTENT_CHANGED_EVENTS, type EventsSubsystem } from './subsystem.js';
export { RulesEngine, matchRule } from './engine.js';
export { RuleIndex, ruleTriggerRef } from './rule-index.js';
export { renderRuleParameters } from './render.js';
export { validateRule, RULE_TYPES, type RuleDraft } from './validate.js';
export { rulesRoutes, presentRule, findRule } from './api.js';
export { testRule, formatRuleTestReport, type RuleTestReport } from './tester.js';
export {
  evaluateCriteria,
  OPERATORS,
  type Criteria,
  type CriteriaVerdict,
  type CriterionResult,
} from './criteria/index.js';
