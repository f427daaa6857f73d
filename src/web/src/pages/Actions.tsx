import { useEffect, useMemo, useState } from 'react';
import { get, getAll, post, WORKFLOW_RUNNERS, type Execution, type ParamSpec } from '../api';
import {
  WorkflowGraph,
  type WorkflowGraphData,
  collect,
  fieldsFromParams,
  initialValues,
  SchemaForm,
  type FormValues,
} from '../components/index';
import { href, navigate } from '../router';
import { countOf, ErrorBox, Loading, useAsync, useSession } from '../ui';

interface Action {
  ref: string;
  name: string;
  pack: string;
  description?: string;
  runner_type: string;
  enabled?: boolean;
  parameters?: Record<string, ParamSpec>;
  uid?: string;
}

function RunForm({ action }: { action: Action }) {
  const fields = useMemo(() => fieldsFromParams(action.parameters), [action]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setValues(initialValues(fields));
    setErrors({});
    setError(undefined);
  }, [fields]);
  return (
    <form
      aria-label={`Run ${action.ref}`}
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const r = collect(fields, values);
        setErrors(r.errors);
        if (Object.keys(r.errors).length) {
          setError(
            new Error(
              `Fix ${countOf(Object.keys(r.errors).length, 'parameter')}: ${Object.entries(r.errors)
                .map(([k, v]) => `${k} ${v}`)
                .join('; ')}`,
            ),
          );
          return;
        }
        setBusy(true);
        setError(undefined);
        try {
          const created = await post<Execution>('/api/v1/executions', {
            action: action.ref,
            parameters: r.value,
          });
          navigate(href('history', created.id));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <SchemaForm fields={fields} values={values} errors={errors} onChange={setValues} />
      <ErrorBox error={error} />
      <button type="submit" className="primary" disabled={busy || action.enabled === false}>
        {busy ? 'Starting…' : 'Run'}
      </button>
      {action.enabled === false && <span className="muted"> This action is disabled.</span>}
    </form>
  );
}

/** The definition's graph, with `squall workflow inspect`'s errors on their tasks. */
function ActionGraph({ action }: { action: string }) {
  const graph = useAsync(
    () => get<WorkflowGraphData>(`/api/v1/workflows/graph?action=${encodeURIComponent(action)}`),
    [action],
  );
  return (
    <>
      <h3>Workflow graph</h3>
      <ErrorBox error={graph.error} onRetry={graph.reload} />
      {graph.data ? (
        <WorkflowGraph data={graph.data} />
      ) : (
        !graph.error && <Loading what="Loading the workflow" />
      )}
    </>
  );
}

export function Actions({ selected }: { selected?: string }) {
  const { can } = useSession();
  const list = useAsync(
    () => getAll<Action>('/api/v1/actions?include_attributes=ref,name,pack,description,runner_type,enabled'),
    [],
  );
  const [search, setSearch] = useState('');
  const detail = useAsync(
    () =>
      selected
        ? get<Action>(`/api/v1/actions/views/overview/${encodeURIComponent(selected)}`)
        : Promise.resolve(undefined),
    [selected],
  );
  const groups = useMemo(() => {
    const q = search.trim().toLowerCase();
    const m = new Map<string, Action[]>();
    for (const a of list.data ?? []) {
      if (q && !a.ref.toLowerCase().includes(q) && !(a.description ?? '').toLowerCase().includes(q)) continue;
      if (!m.has(a.pack)) m.set(a.pack, []);
      m.get(a.pack)!.push(a);
    }
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [list.data, search]);
  return (
    <section className="page split">
      <aside className="sidebar" aria-label="Actions by pack">
        <h1>Actions</h1>
        <input
          type="search"
          aria-label="Search actions"
          placeholder="Search actions"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <ErrorBox error={list.error} onRetry={list.reload} />
        {list.loading && !list.data && <Loading />}
        {groups.map(([pack, actions]) => (
          <details
            key={pack}
            open={Boolean(search) || selected?.startsWith(`${pack}.`) || groups.length <= 3}
          >
            <summary>
              {pack} <span className="muted small">({actions.length})</span>
            </summary>
            <ul className="navlist">
              {actions.map((a) => (
                <li key={a.ref}>
                  <a
                    href={href('actions', a.ref)}
                    aria-current={a.ref === selected ? 'page' : undefined}
                    title={a.description}
                  >
                    {a.name}
                  </a>
                </li>
              ))}
            </ul>
          </details>
        ))}
        {list.data && groups.length === 0 && <p className="muted">No action matches.</p>}
      </aside>
      <div className="content">
        {!selected && <p className="muted">Choose an action to see its parameters and run it.</p>}
        <ErrorBox error={detail.error} onRetry={detail.reload} />
        {detail.data && (
          <>
            <h2>{detail.data.ref}</h2>
            <p>{detail.data.description}</p>
            <p className="muted small">
              runner: {detail.data.runner_type} ·{' '}
              <a href={`#/history?action=${encodeURIComponent(detail.data.ref)}`}>history</a>
            </p>
            {can('action_execute', {
              uid: `action:${detail.data.pack}:${detail.data.name}`,
              pack: detail.data.pack,
            }) ? (
              <RunForm action={detail.data} />
            ) : (
              <p className="muted">You may not run this action.</p>
            )}
            {WORKFLOW_RUNNERS.has(detail.data.runner_type) && <ActionGraph action={detail.data.ref} />}
          </>
        )}
      </div>
    </section>
  );
}
