/**
 * POST /api/v1/rules/test: the rule tester (tester.ts) behind the API, so the web UI can test a
 * rule before saving it. st2 has no such route (st2-rule-tester is a local tool); the body and
 * report follow `squall rule test --json`.
 *
 * RBAC: `rule_view` on the rule being tested (its uid, `rule:<pack>:<name>`, so pack-scoped
 * grants apply), as st2-rule-tester only reads; testing against a stored trigger instance also
 * needs `trigger_view`, the permission GET /api/v1/triggerinstances/:id asks for.
 * Datastore values are available to the criteria and parameters as `st2kv`, but nothing is
 * decrypted (`decrypt_kv` reports a render error) and the action's secret parameters are masked:
 * the report must not be a way to read secrets.
 */
import { type ApiRouter, authorize } from '../api/index.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { actionSpecs, MASK } from '../executions/index.js';
import { isId } from '../ids.js';
import type { Services } from '../service/index.js';
import { kvContext, triggerInstanceReads } from '../triggers/index.js';
import { testRule } from './tester.js';
import { validateRule } from './validate.js';

type Obj = Record<string, unknown>;

const criterionResult = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    operator: { type: 'string' },
    pattern: {},
    value: {},
    matched: { type: 'boolean' },
    error: { type: 'string' },
  },
};

const testBody = {
  type: 'object',
  required: ['rule'],
  additionalProperties: false,
  description:
    'The rule (as POST /api/v1/rules takes it) and exactly one of trigger_instance_id or trigger_instance.',
  properties: {
    rule: { type: 'object', description: 'A rule, saved or not: name, pack, trigger, criteria, action.' },
    trigger_instance_id: { type: 'string', description: 'Test against a stored trigger instance.' },
    trigger_instance: {
      type: 'object',
      required: ['payload'],
      additionalProperties: false,
      description: "Test against this payload; trigger defaults to the rule's trigger type.",
      properties: { trigger: { type: 'string' }, payload: {} },
    },
  },
};

const testReport = {
  type: 'object',
  properties: {
    rule: { type: 'string', description: 'The ref of the tested rule.' },
    matches: { type: 'boolean' },
    trigger_instance: {
      type: 'object',
      properties: { id: { type: 'string' }, trigger: { type: 'string' }, payload: {} },
    },
    trigger_mismatch: { type: 'string', description: "Why the instance's trigger is not the rule's." },
    criteria: { type: 'array', items: criterionResult, description: 'Every criterion, evaluated.' },
    failed: criterionResult,
    action: { type: 'string' },
    parameters: { type: 'object', description: 'The rendered action parameters (secrets masked).' },
    render_error: { type: 'string' },
  },
};

interface TestBody {
  rule: Obj;
  trigger_instance_id?: string;
  trigger_instance?: { trigger?: string; payload: unknown };
}

/** The instance to test against: the stored one, or the given payload. */
async function instanceFor(
  services: Services,
  body: TestBody,
  ruleTrigger: string,
): Promise<{ id?: string; trigger: string; payload: unknown }> {
  const byId = body.trigger_instance_id;
  if ((byId === undefined) === (body.trigger_instance === undefined))
    throw new ValidationError('give exactly one of trigger_instance_id or trigger_instance', {
      field: 'trigger_instance_id',
    });
  if (byId === undefined)
    return {
      trigger: body.trigger_instance!.trigger ?? ruleTrigger,
      payload: body.trigger_instance!.payload ?? {},
    };
  const stored = isId(byId) ? await triggerInstanceReads(services).get(byId) : null;
  if (!stored)
    throw new NotFoundError('TriggerInstance', byId, {
      hint: 'list trigger instances with `squall trigger-instance list`',
    });
  return { id: stored.id, trigger: stored.trigger, payload: stored.payload };
}

/**
 * The action's secret parameters (its own and its runner's) as ********, and any parameter whose
 * value contains a secret's value, as the execution service treats one rendered from a secret.
 */
async function maskSecrets(services: Services, actionRef: string, parameters: Obj): Promise<Obj> {
  const action = await services.store.actions.findOne({ ref: actionRef });
  const specs = actionSpecs(action);
  const secrets = Object.keys(parameters).filter((name) => specs[name]?.secret === true);
  const values = secrets
    .map((name) => parameters[name])
    .filter((v): v is string => typeof v === 'string' && v.length >= 3);
  return Object.fromEntries(
    Object.entries(parameters).map(([name, value]) => {
      const secret = secrets.includes(name) || values.some((v) => JSON.stringify(value ?? '').includes(v));
      return [name, secret ? MASK : value];
    }),
  );
}

export function ruleTestRoute(router: ApiRouter, services: Services): void {
  router.add({
    method: 'post',
    path: '/api/v1/rules/test',
    summary:
      'Test a rule (saved or not) against a trigger instance: does it match, every criterion, the rendered parameters',
    tag: 'rules',
    status: 200,
    body: testBody,
    response: testReport,
    handler: async ({ req, body }) => {
      const b = body as TestBody;
      // 400 naming the field for a bad rule, exactly as creating it would.
      const draft = await validateRule(services.store, b.rule, 'rule');
      authorize(services, req, 'rule_view', { uid: draft.uid, pack: draft.pack });
      if (b.trigger_instance_id !== undefined) authorize(services, req, 'trigger_view');
      const instance = await instanceFor(services, b, draft.trigger.type);
      const { st2kv } = await kvContext(services);
      const report = testRule(draft, instance, { st2kv });
      if (report.parameters)
        report.parameters = await maskSecrets(services, draft.action.ref, report.parameters);
      return { ...report, trigger_instance: instance };
    },
  });
}
