import { useEffect, useMemo, useState } from 'react';
import { get, getAll, post, put, del, qs, type ParamSpec } from '../api';
import {
  collect,
  fieldsFromJsonSchema,
  fieldsFromParams,
  initialValues,
  SchemaForm,
  type FormValues,
  JsonView,
} from '../components/index';
import { href, navigate } from '../router';
import { ErrorBox, formatTime, Loading, StatusBadge, useAsync, useNotice, useSession } from '../ui';

/** st2's criteria operators (src/rules/criteria OPERATORS); exists/nexists take no pattern. */
export const OPERATORS = [
  'equals',
  'nequals',
  'iequals',
  'contains',
  'ncontains',
  'icontains',
  'incontains',
  'startswith',
  'istartswith',
  'endswith',
  'iendswith',
  'lessthan',
  'greaterthan',
  'matchwildcard',
  'regex',
  'iregex',
  'matchregex',
  'timediff_lt',
  'timediff_gt',
  'exists',
  'nexists',
  'inside',
  'ninside',
  'search',
];
const NO_PATTERN = new Set(['exists', 'nexists']);
const SEARCH_CONDITIONS = ['any', 'all', 'any2any', 'all2any'];

interface Rule {
  id?: string;
  ref?: string;
  name: string;
  pack: string;
  description?: string;
  enabled: boolean;
  trigger: { type: string; parameters?: Record<string, unknown> };
  criteria?: Record<string, { type: string; pattern?: unknown; condition?: string }>;
  action: { ref: string; parameters?: Record<string, unknown> };
}

interface TriggerType {
  ref: string;
  description?: string;
  parameters_schema?: { properties?: Record<string, ParamSpec>; required?: string[] };
  payload_schema?: { properties?: Record<string, ParamSpec> };
}

interface Criterion {
  key: string;
  type: string;
  pattern: string;
  condition: string;
}

function criteriaToRows(c: Rule['criteria']): Criterion[] {
  return Object.entries(c ?? {}).map(([key, v]) => ({
    key,
    type: v.type,
    pattern:
      v.pattern === undefined ? '' : typeof v.pattern === 'string' ? v.pattern : JSON.stringify(v.pattern),
    condition: v.condition ?? '',
  }));
}

function rowsToCriteria(rows: Criterion[]): { criteria: Rule['criteria']; error?: string } {
  const out: NonNullable<Rule['criteria']> = {};
  for (const r of rows) {
    if (!r.key.trim())
      return { criteria: out, error: 'every criterion needs a key such as trigger.body.name' };
    if (out[r.key])
      return { criteria: out, error: `the key "${r.key}" appears twice: add a #suffix (${r.key}#2)` };
    let pattern: unknown = r.pattern;
    if (r.type === 'search') {
      try {
        pattern = JSON.parse(r.pattern || '{}');
      } catch (e) {
        return {
          criteria: out,
          error: `${r.key}: a search pattern is a JSON object of item.* criteria (${(e as Error).message})`,
        };
      }
    } else if (/^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\})$/s.test(r.pattern.trim())) {
      try {
        pattern = JSON.parse(r.pattern);
      } catch {
        pattern = r.pattern;
      }
    }
    out[r.key] = {
      type: r.type,
      ...(NO_PATTERN.has(r.type) ? {} : { pattern }),
      ...(r.type === 'search' ? { condition: r.condition || 'any' } : {}),
    };
  }
  return { criteria: out };
}

function CriteriaEditor({
  rows,
  onChange,
  payloadKeys,
}: {
  rows: Criterion[];
  onChange: (r: Criterion[]) => void;
  payloadKeys: string[];
}) {
  const set = (i: number, patch: Partial<Criterion>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="criteria">
      <legend>Criteria (all must match)</legend>
      <datalist id="payload-keys">
        {payloadKeys.map((k) => (
          <option key={k} value={`trigger.${k}`} />
        ))}
      </datalist>
      {rows.map((r, i) => (
        <div className="criterion row gap" key={i}>
          <input
            aria-label={`Criterion ${i + 1} key`}
            list="payload-keys"
            placeholder="trigger.body.name"
            value={r.key}
            onChange={(e) => set(i, { key: e.target.value })}
          />
          <select
            aria-label={`Criterion ${i + 1} operator`}
            value={r.type}
            onChange={(e) => set(i, { type: e.target.value })}
          >
            {OPERATORS.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
          {r.type === 'search' && (
            <select
              aria-label={`Criterion ${i + 1} condition`}
              value={r.condition || 'any'}
              onChange={(e) => set(i, { condition: e.target.value })}
            >
              {SEARCH_CONDITIONS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          )}
          {!NO_PATTERN.has(r.type) && (
            <input
              aria-label={`Criterion ${i + 1} pattern`}
              placeholder={
                r.type === 'search' ? '{"item.name": {"type": "equals", "pattern": "x"}}' : 'pattern'
              }
              value={r.pattern}
              onChange={(e) => set(i, { pattern: e.target.value })}
            />
          )}
          <button
            type="button"
            aria-label={`Remove criterion ${i + 1}`}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            ✕
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() => onChange([...rows, { key: '', type: 'equals', pattern: '', condition: '' }])}
      >
        Add criterion
      </button>
    </fieldset>
  );
}

function Enforcements({ rule }: { rule: string }) {
  const list = useAsync(
    () =>
      get<
        {
          id: string;
          enforced_at: string;
          status: string;
          execution_id?: string;
          failure_reason?: string;
          trigger_instance_id?: string;
        }[]
      >(`/api/v1/ruleenforcements${qs({ rule_ref: rule, limit: 20 })}`),
    [rule],
  );
  if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading />;
  if (list.data.length === 0) return <p className="muted">Not enforced yet.</p>;
  return (
    <table className="table">
      <thead>
        <tr>
          <th>When</th>
          <th>Status</th>
          <th>Execution</th>
          <th>Trigger instance</th>
          <th>Reason</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {list.data.map((e) => (
          <tr key={e.id}>
            <td>{formatTime(e.enforced_at)}</td>
            <td>
              <StatusBadge status={e.status} />
            </td>
            <td>{e.execution_id ? <a href={href('history', e.execution_id)}>{e.execution_id}</a> : ''}</td>
            <td>
              <code>{e.trigger_instance_id}</code>
            </td>
            <td>{e.failure_reason}</td>
            <td>
              <a href={href('trace', 'rule_enforcement', e.id)}>Trace</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** What POST /api/v1/rules/test answers (src/rules/test-api.ts). */
interface RuleTestReport {
  rule: string;
  matches: boolean;
  trigger_mismatch?: string;
  criteria: {
    key: string;
    operator: string;
    pattern: unknown;
    value: unknown;
    matched: boolean;
    error?: string;
  }[];
  failed?: { key: string; operator: string; pattern: unknown; value: unknown };
  action?: string;
  parameters?: Record<string, unknown>;
  render_error?: string;
}

const shown = (v: unknown) => (v === undefined ? '(missing)' : JSON.stringify(v));

/** The tester's verdict: the banner, every criterion with the payload's value, the rendered parameters. */
function TestReport({ report }: { report: RuleTestReport }) {
  return (
    <div className="card test-report" role="status" aria-label="Test result">
      <strong className={report.matches ? 'status-succeeded' : 'status-failed'}>
        {report.matches ? 'RULE MATCHES' : 'RULE DOES NOT MATCH'}
      </strong>
      {report.trigger_mismatch && <p>{report.trigger_mismatch}</p>}
      {report.criteria.length > 0 && (
        <table className="table" aria-label="Criteria results">
          <thead>
            <tr>
              <th>Criterion</th>
              <th>Operator</th>
              <th>Pattern</th>
              <th>Payload value</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {report.criteria.map((c) => (
              <tr key={c.key}>
                <td>
                  <code>{c.key}</code>
                </td>
                <td>{c.operator}</td>
                <td className="value">
                  <code>{shown(c.pattern)}</code>
                </td>
                <td className="value">
                  <code>{shown(c.value)}</code>
                </td>
                <td className={c.matched ? 'status-succeeded' : 'status-failed'}>
                  {c.matched ? 'matches' : `does not match${c.error ? ` (${c.error})` : ''}`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.matches && (
        <>
          <p>
            Would run <code>{report.action}</code> with:
          </p>
          {report.render_error ? (
            <p className="field-error">{report.render_error}</p>
          ) : (
            <JsonView value={report.parameters ?? {}} label="Rendered parameters" />
          )}
        </>
      )}
    </div>
  );
}

function RuleEditor({ existing }: { existing?: Rule }) {
  const triggers = useAsync(() => getAll<TriggerType>('/api/v1/triggertypes'), []);
  const actions = useAsync(() => getAll<{ ref: string }>('/api/v1/actions?include_attributes=ref'), []);
  const [name, setName] = useState(existing?.name ?? '');
  const [pack, setPack] = useState(existing?.pack ?? 'default');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [triggerType, setTriggerType] = useState(existing?.trigger.type ?? '');
  const [actionRef, setActionRef] = useState(existing?.action.ref ?? '');
  const [criteria, setCriteria] = useState<Criterion[]>(criteriaToRows(existing?.criteria));
  const tt = triggers.data?.find((t) => t.ref === triggerType);
  const triggerFields = useMemo(() => fieldsFromJsonSchema(tt?.parameters_schema), [tt]);
  const [triggerValues, setTriggerValues] = useState<FormValues>({});
  const actionInfo = useAsync(
    () =>
      actionRef
        ? get<{ parameters: Record<string, ParamSpec> }>(
            `/api/v1/actions/views/overview/${encodeURIComponent(actionRef)}`,
          )
        : Promise.resolve(undefined),
    [actionRef],
  );
  const actionFields = useMemo(() => fieldsFromParams(actionInfo.data?.parameters), [actionInfo.data]);
  const [actionValues, setActionValues] = useState<FormValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [testInput, setTestInput] = useState('');
  const [testResult, setTestResult] = useState<RuleTestReport>();
  const [testError, setTestError] = useState<unknown>();
  const [notice, notify] = useNotice();

  useEffect(
    () =>
      setTriggerValues(
        initialValues(
          triggerFields,
          existing?.trigger.type === triggerType ? existing?.trigger.parameters : {},
        ),
      ),
    // only when the fields change: the values the user typed must survive other renders
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [triggerFields],
  );
  useEffect(
    () =>
      setActionValues(
        initialValues(actionFields, existing?.action.ref === actionRef ? existing?.action.parameters : {}),
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [actionFields],
  );

  const build = (): Rule | undefined => {
    const t = collect(triggerFields, triggerValues, true);
    const a = collect(actionFields, actionValues, true);
    const c = rowsToCriteria(criteria);
    setErrors({ ...t.errors, ...a.errors });
    const problems = [
      !name.trim() && 'the rule needs a name',
      !triggerType && 'choose a trigger type',
      !actionRef && 'choose an action',
      c.error,
      ...Object.entries({ ...t.errors, ...a.errors }).map(([k, v]) => `${k}: ${v}`),
    ].filter(Boolean);
    if (problems.length) {
      setError(new Error(problems.join('; ')));
      return undefined;
    }
    setError(undefined);
    return {
      name: name.trim(),
      pack,
      description,
      enabled,
      trigger: { type: triggerType, parameters: t.value },
      criteria: c.criteria,
      action: { ref: actionRef, parameters: a.value },
    };
  };

  const save = async () => {
    const rule = build();
    if (!rule) return;
    try {
      const saved = existing?.ref
        ? await put<Rule>(`/api/v1/rules/${encodeURIComponent(existing.ref)}`, { ...existing, ...rule })
        : await post<Rule>('/api/v1/rules', rule);
      notify('ok', 'Rule saved');
      navigate(href('rules', saved.ref ?? `${rule.pack}.${rule.name}`));
    } catch (err) {
      setError(err);
    }
  };

  const test = async () => {
    const rule = build();
    if (!rule) return;
    setTestResult(undefined);
    setTestError(undefined);
    const text = testInput.trim();
    let body: Record<string, unknown>;
    if (/^[0-9a-f]{24}$/i.test(text)) body = { rule, trigger_instance_id: text };
    else {
      try {
        const parsed = JSON.parse(text || '{}') as Record<string, unknown>;
        // A pasted trigger instance ({trigger, payload, ...}) is tested with its own trigger and payload.
        body = {
          rule,
          trigger_instance:
            'payload' in parsed
              ? {
                  trigger: typeof parsed.trigger === 'string' ? parsed.trigger : triggerType,
                  payload: parsed.payload,
                }
              : { trigger: triggerType, payload: parsed },
        };
      } catch (e) {
        setTestError(
          new Error(`The test input is neither a trigger instance id nor JSON: ${(e as Error).message}`),
        );
        return;
      }
    }
    try {
      setTestResult(await post<RuleTestReport>('/api/v1/rules/test', body));
    } catch (err) {
      setTestError(err);
    }
  };

  const payloadKeys = Object.keys(tt?.payload_schema?.properties ?? {});
  return (
    <form
      className="rule-editor"
      aria-label="Rule"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="grid2">
        <label>
          Name
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            disabled={Boolean(existing?.ref)}
          />
        </label>
        <label>
          Pack
          <input value={pack} onChange={(e) => setPack(e.target.value)} disabled={Boolean(existing?.ref)} />
        </label>
        <label className="wide">
          Description
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
        </label>
      </div>
      <fieldset>
        <legend>Trigger</legend>
        <ErrorBox error={triggers.error} />
        <label>
          Trigger type
          <select value={triggerType} onChange={(e) => setTriggerType(e.target.value)}>
            <option value="">— choose —</option>
            {triggers.data?.map((t) => (
              <option key={t.ref} value={t.ref}>
                {t.ref}
              </option>
            ))}
          </select>
        </label>
        {tt && (
          <p className="muted small">
            {tt.description}
            {payloadKeys.length ? ` · payload: ${payloadKeys.join(', ')}` : ''}
          </p>
        )}
        {tt && (
          <SchemaForm
            fields={triggerFields}
            values={triggerValues}
            errors={errors}
            onChange={setTriggerValues}
            templated
          />
        )}
      </fieldset>
      <CriteriaEditor rows={criteria} onChange={setCriteria} payloadKeys={payloadKeys} />
      <fieldset>
        <legend>Action</legend>
        <ErrorBox error={actions.error ?? actionInfo.error} />
        <label>
          Action
          <input
            list="rule-actions"
            value={actionRef}
            onChange={(e) => setActionRef(e.target.value)}
            placeholder="core.local"
          />
          <datalist id="rule-actions">
            {actions.data?.map((a) => (
              <option key={a.ref} value={a.ref} />
            ))}
          </datalist>
        </label>
        {actionInfo.data && (
          <SchemaForm
            fields={actionFields}
            values={actionValues}
            errors={errors}
            onChange={setActionValues}
            templated
          />
        )}
      </fieldset>
      <ErrorBox error={error} />
      {notice}
      <div className="row gap">
        <button type="submit" className="primary">
          Save rule
        </button>
      </div>
      <fieldset>
        <legend>Test before saving</legend>
        <label>
          A stored trigger instance id, or a payload as JSON
          <textarea
            rows={4}
            spellCheck={false}
            value={testInput}
            onChange={(e) => setTestInput(e.target.value)}
            placeholder='{"body": {"name": "test"}}'
          />
        </label>
        <button type="button" onClick={() => void test()}>
          Test rule
        </button>
        <ErrorBox error={testError} />
        {testResult && <TestReport report={testResult} />}
      </fieldset>
    </form>
  );
}

export function Rules({ selected, mode }: { selected?: string; mode?: string }) {
  const { can } = useSession();
  const list = useAsync(() => getAll<Rule>('/api/v1/rules'), []);
  const [notice, notify] = useNotice();
  const rule = useAsync(
    () =>
      selected && selected !== 'new'
        ? get<Rule>(`/api/v1/rules/${encodeURIComponent(selected)}`)
        : Promise.resolve(undefined),
    [selected],
  );
  const toggle = async (r: Rule) => {
    try {
      await put(`/api/v1/rules/${encodeURIComponent(r.ref!)}`, { ...r, enabled: !r.enabled });
      notify('ok', `${r.ref} ${r.enabled ? 'disabled' : 'enabled'}`);
      list.reload();
    } catch (err) {
      notify('error', `Could not change ${r.ref}: ${(err as Error).message}`);
    }
  };
  const remove = async (r: Rule) => {
    if (!window.confirm(`Delete rule ${r.ref}?`)) return;
    try {
      await del(`/api/v1/rules/${encodeURIComponent(r.ref!)}`);
      navigate('#/rules');
      list.reload();
    } catch (err) {
      notify('error', `Could not delete ${r.ref}: ${(err as Error).message}`);
    }
  };
  return (
    <section className="page split">
      <aside className="sidebar" aria-label="Rules">
        <h1>Rules</h1>
        {can('rule_create') && (
          <a className="button" href="#/rules/new">
            New rule
          </a>
        )}
        <ErrorBox error={list.error} onRetry={list.reload} />
        {notice}
        <ul className="navlist">
          {list.data?.map((r) => (
            <li key={r.ref} className="row gap">
              <input
                type="checkbox"
                aria-label={`${r.ref} enabled`}
                checked={r.enabled}
                onChange={() => void toggle(r)}
                disabled={!can('rule_modify')}
              />
              <a
                href={href('rules', r.ref!)}
                title={r.ref}
                aria-current={r.ref === selected ? 'page' : undefined}
              >
                {r.ref}
              </a>
            </li>
          ))}
        </ul>
        {list.data?.length === 0 && <p className="muted">No rules yet.</p>}
      </aside>
      <div className="content">
        {selected === 'new' && (
          <>
            <h2>New rule</h2>
            <RuleEditor />
          </>
        )}
        <ErrorBox error={rule.error} />
        {rule.data && (
          <>
            <h2>
              {rule.data.ref} {!rule.data.enabled && <span className="muted">(disabled)</span>}
            </h2>
            <div className="row gap">
              {mode !== 'edit' && can('rule_modify') && (
                <a className="button" href={`${href('rules', rule.data.ref!)}/edit`}>
                  Edit
                </a>
              )}
              {can('rule_delete') && (
                <button type="button" className="danger" onClick={() => void remove(rule.data!)}>
                  Delete
                </button>
              )}
            </div>
            {mode === 'edit' ? (
              <RuleEditor existing={rule.data} key={rule.data.ref} />
            ) : (
              <JsonView value={rule.data} label="Rule" />
            )}
            <h3>Recent enforcements</h3>
            <Enforcements rule={rule.data.ref!} />
          </>
        )}
        {!selected && <p className="muted">Choose a rule, or create one.</p>}
      </div>
    </section>
  );
}
