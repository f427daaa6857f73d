import { NAME_MAX_LENGTH, RULE_NAME_PATTERN } from '../../names.js';
import { tagsSchema } from './action.js';

/** Criteria operators and their aliases (st2-reference.md §4.2); lookup is case-insensitive. */
export const CRITERIA_OPERATORS = [
  'equals',
  'eq',
  'nequals',
  'neq',
  'iequals',
  'ieq',
  'contains',
  'ncontains',
  'icontains',
  'incontains',
  'startswith',
  'istartswith',
  'endswith',
  'iendswith',
  'lessthan',
  'lt',
  'greaterthan',
  'gt',
  'matchwildcard',
  'regex',
  'iregex',
  'matchregex',
  'timediff_lt',
  'td_lt',
  'timediff_gt',
  'td_gt',
  'exists',
  'nexists',
  'inside',
  'in',
  'ninside',
  'nin',
  'search',
];

export const SEARCH_CONDITIONS = ['any', 'all', 'any2any', 'all2any'];

const criterion = {
  type: 'object',
  description: 'One criterion: payload value at the key compared to `pattern` with operator `type`.',
  required: ['type'],
  properties: {
    type: { type: 'string', description: 'Operator name (case-insensitive), e.g. equals, regex, search.' },
    pattern: {
      description: 'Value to compare with (strings are Jinja-rendered); for `search`, a nested criteria map.',
    },
    condition: { type: 'string', description: 'For `search`: any, all, any2any or all2any.' },
  },
  additionalProperties: false,
};

/** Rule (st2-reference.md §4.1, st2 `RuleAPI`). */
export const ruleSchema = {
  $id: 'https://squall.dev/schemas/rule.json',
  title: 'Rule',
  description: 'Rule file under rules/: when a trigger instance matches, run an action.',
  type: 'object',
  required: ['name', 'trigger', 'action'],
  properties: {
    name: {
      type: 'string',
      minLength: 1,
      maxLength: NAME_MAX_LENGTH,
      pattern: RULE_NAME_PATTERN,
      description: 'Rule name (ref = pack.name); words may be separated by spaces.',
    },
    pack: { type: 'string', description: 'Containing pack; must equal it when given.' },
    description: { type: 'string', description: 'What the rule is for.' },
    enabled: { type: 'boolean', description: 'Only enabled rules are matched (st2 API default false).' },
    type: {
      type: 'object',
      description: 'Rule type: standard, or backstop (fires only when no standard rule matched).',
      properties: {
        ref: { enum: ['standard', 'backstop'], description: 'standard or backstop.' },
        parameters: { type: 'object', description: 'Rule type parameters (unused).' },
      },
      additionalProperties: false,
    },
    trigger: {
      type: 'object',
      description: 'The trigger type to listen to, with parameters binding a parameterised trigger.',
      required: ['type'],
      properties: {
        type: { type: 'string', description: 'Trigger type ref, e.g. core.st2.webhook.' },
        parameters: { type: 'object', description: 'Trigger parameters (webhook url, timer schedule...).' },
        ref: { type: 'string', description: 'Ref of the bound trigger (from API exports); ignored.' },
        description: { type: 'string', description: 'Informational; ignored.' },
      },
      additionalProperties: false,
    },
    criteria: {
      type: 'object',
      description:
        'Map of payload key expression (`trigger.x.y`, optional `#suffix`) to criterion; all are ANDed.',
      additionalProperties: criterion,
    },
    action: {
      type: 'object',
      description: 'The action to run.',
      required: ['ref'],
      properties: {
        ref: { type: 'string', description: 'Action ref.' },
        parameters: { type: 'object', description: 'Action parameters; Jinja with trigger.* and st2kv.*.' },
        description: { type: 'string', description: 'Informational; ignored.' },
      },
      additionalProperties: false,
    },
    context: { type: 'object', description: 'Execution context (e.g. user).' },
    tags: tagsSchema,
    ref: { type: 'string', description: 'Computed; ignored when present.' },
    uid: { type: 'string', description: 'Computed; ignored when present.' },
    id: { type: 'string', description: 'Database id; ignored when present.' },
    metadata_file: { type: 'string', description: 'Set by the loader; ignored when present.' },
  },
  additionalProperties: false,
};
