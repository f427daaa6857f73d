/**
 * Rendering a rule's `action.parameters` with `{trigger: payload, st2kv}` (st2-reference.md §4.3).
 * Top-level strings render to strings (st2's render_values); the execution request then casts
 * them to the action's parameter types. Inside lists and objects a string that is exactly one
 * `{{ expr }}` keeps the expression's native type, so `{"items": "{{ trigger.body.items }}"}`
 * stays a list.
 */
import { SquallError, errorMessage } from '../errors.js';
import { renderValue, type JinjaOptions } from '../workflows/expressions/jinja/index.js';

/** Renders every parameter; throws RULE_PARAM_RENDER naming the rule and the parameter. */
export function renderRuleParameters(
  ruleRef: string,
  parameters: Record<string, unknown> | undefined,
  context: Record<string, unknown>,
  options: JinjaOptions = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    try {
      out[name] = renderValue(value, context, {
        ...options,
        source: `rule ${ruleRef}: action.parameters.${name}`,
      });
    } catch (err) {
      throw new SquallError(
        'RULE_PARAM_RENDER',
        `rule "${ruleRef}": failed to render action parameter "${name}": ${errorMessage(err)}`,
        { rule: ruleRef, parameter: name, field: `action.parameters.${name}` },
      );
    }
  }
  return out;
}
