/**
 * Checks a rule as `st2 rule create FILE` posts it (the JSON of the rule YAML, st2 RuleAPI) and
 * turns it into the stored record. The shape is checked with the content schema rules on disk
 * use; the trigger type, its parameters and the operators are checked against the store (the
 * action is not, as in st2). Every problem names its field.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { schemas } from '../content/index.js';
import { ValidationError } from '../errors.js';
import { lazyValidator } from '../lazy-validator.js';
import { describeNamePattern } from '../names.js';
import { canonicalOperator } from '../rules/criteria/index.js';
import type { Store } from '../store/index.js';
import {
  hmacSchema,
  isMeaningfulSchema,
  schemaProblems,
  WEBHOOK_EXTENSION_KEYS,
  WEBHOOK_TRIGGER_TYPE,
} from '../triggers/index.js';
import { isTimerType, timerProblem } from '../triggers/timers/index.js';

const checkShape = lazyValidator(() =>
  new Ajv({ allErrors: true, strict: false }).compile(schemas.ruleSchema),
);

export const RULE_TYPES = [
  {
    id: 'standard',
    name: 'standard',
    description: 'Fires when its criteria match the trigger instance.',
    enabled: true,
    parameters: {},
  },
  {
    id: 'backstop',
    name: 'backstop',
    description: 'Fires only when no standard rule matched the trigger instance.',
    enabled: true,
    parameters: {},
  },
];

function describe(e: ErrorObject): string {
  const at = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const prefix = at ? `${at}: ` : '';
  if (e.keyword === 'required')
    return `${at ? `${at}.` : ''}${(e.params as { missingProperty: string }).missingProperty}: is required`;
  if (e.keyword === 'additionalProperties')
    return `${at ? `${at}.` : ''}${(e.params as { additionalProperty: string }).additionalProperty}: unknown field`;
  const rule = e.keyword === 'pattern' ? describeNamePattern(String(e.params.pattern)) : undefined;
  if (rule) return `${prefix}must be ${rule}`;
  return `${prefix}${e.message ?? e.keyword}`;
}

type Obj = Record<string, unknown>;

export interface RuleDraft {
  name: string;
  pack: string;
  ref: string;
  uid: string;
  description?: string;
  enabled: boolean;
  type: { ref: 'standard' | 'backstop'; parameters: Obj };
  trigger: { type: string; parameters: Obj };
  criteria: Record<string, { type: string; pattern?: unknown; condition?: string }>;
  action: { ref: string; parameters: Obj };
  context: Obj;
  tags: unknown[];
  metadata_file: string;
  [k: string]: unknown;
}

/** Validates a rule body; throws ValidationError listing every problem with its field. */
export async function validateRule(store: Store, body: unknown, source = 'rule'): Promise<RuleDraft> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError(`${source}: expected a rule object (name, trigger, action, ...)`, { source });
  }
  const data = body as Obj;
  if (!checkShape(data)) {
    const problems = (checkShape.errors ?? []).map(describe);
    throw new ValidationError(`${source} is invalid: ${problems.join('; ')}`, { source, errors: problems });
  }
  const problems: string[] = [];
  const trigger = data.trigger as { type: string; parameters?: Obj };
  const action = data.action as { ref: string; parameters?: Obj };
  const criteria = (data.criteria as RuleDraft['criteria'] | undefined) ?? {};
  for (const [key, c] of Object.entries(criteria)) {
    if (!canonicalOperator(c.type)) problems.push(`criteria.${key}.type: unknown operator "${c.type}"`);
  }
  const type = await store.triggerTypes.findOne({ ref: trigger.type });
  if (!type) {
    problems.push(`trigger.type: unknown trigger type "${trigger.type}"`);
  } else {
    const params = { ...(trigger.parameters ?? {}) };
    if (trigger.type === WEBHOOK_TRIGGER_TYPE) {
      if (params.hmac !== undefined)
        problems.push(
          ...schemaProblems(hmacSchema as unknown as Obj, params.hmac, 'trigger.parameters.hmac'),
        );
      if (params.wait !== undefined && !(Number.isInteger(params.wait) && (params.wait as number) >= 0))
        problems.push('trigger.parameters.wait: must be a whole number of seconds');
      for (const k of WEBHOOK_EXTENSION_KEYS) delete params[k];
    }
    const before = problems.length;
    if (isMeaningfulSchema(type.parameters_schema))
      problems.push(...schemaProblems(type.parameters_schema, params, 'trigger.parameters'));
    // A timer's parameters say when it fires: checked as the timers engine will read them.
    if (problems.length === before && isTimerType(trigger.type)) {
      const problem = timerProblem(trigger.type, params);
      if (problem)
        problems.push(`trigger.parameters${problem.field ? `.${problem.field}` : ''}: ${problem.message}`);
    }
  }
  // The action is not looked up, as st2's RuleAPI.to_model does not: a rule may name an action
  // installed later, and its enforcement fails until then.
  if (problems.length) {
    throw new ValidationError(`${source} is invalid: ${problems.join('; ')}`, { source, errors: problems });
  }
  const pack = typeof data.pack === 'string' && data.pack ? data.pack : 'default';
  const name = String(data.name);
  const ruleType = (data.type as { ref?: 'standard' | 'backstop'; parameters?: Obj } | undefined) ?? {};
  return {
    name,
    pack,
    ref: `${pack}.${name}`,
    uid: `rule:${pack}:${name}`,
    ...(typeof data.description === 'string' ? { description: data.description } : {}),
    enabled: data.enabled === true,
    type: { ref: ruleType.ref ?? 'standard', parameters: ruleType.parameters ?? {} },
    trigger: { type: trigger.type, parameters: trigger.parameters ?? {} },
    criteria,
    action: { ref: action.ref, parameters: action.parameters ?? {} },
    context: (data.context as Obj | undefined) ?? {},
    tags: (data.tags as unknown[] | undefined) ?? [],
    metadata_file: typeof data.metadata_file === 'string' ? data.metadata_file : '',
  };
}
