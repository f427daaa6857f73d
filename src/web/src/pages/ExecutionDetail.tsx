import { useCallback, useEffect, useRef, useState } from 'react';
import {
  CANCELABLE,
  COMPLETED,
  del,
  get,
  post,
  put,
  request,
  WORKFLOW_RUNNERS,
  type Execution,
} from '../api';
import {
  JsonView,
  RunTimeline,
  useWorkflowData,
  WorkflowGraph,
  collect,
  fieldsFromParams,
  initialValues,
  SchemaForm,
  type FormValues,
} from '../components/index';
import { subscribe, useStreamOpened } from '../live';
import { href, navigate } from '../router';
import {
  countOf,
  ErrorBox,
  formatBytes,
  formatDuration,
  formatTime,
  Loading,
  StatusBadge,
  useAsync,
  useNotice,
  useSession,
} from '../ui';

const AUTO_OPEN_BYTES = 100_000;

function actionResource(ref: string) {
  const i = ref.indexOf('.');
  return { uid: `action:${ref.slice(0, i)}:${ref.slice(i + 1)}`, pack: ref.slice(0, i) };
}

/** The result, fetched as text and parsed only when opened: big results stay collapsed. */
function Result({ id, status }: { id: string; status: string }) {
  const [text, setText] = useState<string>();
  const [parsed, setParsed] = useState<{ value: unknown } | undefined>();
  const [error, setError] = useState<unknown>();
  const done = COMPLETED.has(status) || status === 'paused' || status === 'pending';
  useEffect(() => {
    if (!done) return;
    let live = true;
    request<string>('GET', `/api/v1/executions/${id}/result`, undefined, { raw: true }).then(
      (r) => {
        if (!live) return;
        setText(r.data);
        if (r.data.length <= AUTO_OPEN_BYTES) setParsed({ value: r.data ? JSON.parse(r.data) : null });
      },
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [id, done]);
  const download = useCallback(() => {
    if (!text) return;
    const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${id}-result.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, [text, id]);
  if (!done) return <p className="muted">The result appears when the execution finishes.</p>;
  if (error) return <ErrorBox error={error} />;
  if (text === undefined) return <Loading what="Loading result" />;
  return (
    <div className="result">
      <div className="row gap">
        <span className="muted small" data-testid="result-size">
          {formatBytes(text.length)}
        </span>
        {!parsed && (
          <button
            type="button"
            onClick={() => {
              // Parsing happens once, on demand; the tree renders only what is opened.
              setTimeout(() => setParsed({ value: JSON.parse(text) }), 0);
            }}
          >
            Show result
          </button>
        )}
        <button type="button" onClick={download}>
          Download JSON
        </button>
      </div>
      {parsed && <JsonView value={parsed.value} label="Result" />}
    </div>
  );
}

/** Output lines, replayed then followed live until the execution ends. */
function Output({ id }: { id: string }) {
  const [lines, setLines] = useState<{ data: string; type: string }[]>([]);
  const [state, setState] = useState<'live' | 'ended' | 'error'>('live');
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setLines([]);
    const es = new EventSource(`/stream/v1/executions/${encodeURIComponent(id)}/output`);
    es.addEventListener('st2.execution.output__create', (e) => {
      const line = JSON.parse((e as MessageEvent<string>).data) as { data: string; output_type: string };
      setLines((ls) =>
        ls.length > 20000
          ? [...ls.slice(-10000), { data: line.data, type: line.output_type }]
          : [...ls, { data: line.data, type: line.output_type }],
      );
    });
    es.addEventListener('EOF', () => {
      setState('ended');
      es.close();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setState('error');
    };
    return () => es.close();
  }, [id]);
  useEffect(() => {
    const el = pre.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <div>
      <div className="muted small" role="status">
        {state === 'live'
          ? 'following output…'
          : state === 'ended'
            ? countOf(lines.length, 'output chunk')
            : 'output stream unavailable'}
      </div>
      <pre ref={pre} className="output" aria-label="Output" tabIndex={0}>
        {lines.length === 0 ? (
          <span className="muted">(no output)</span>
        ) : (
          lines.map((l, i) => (
            <span key={i} className={l.type === 'stderr' ? 'stderr' : undefined}>
              {l.data}
            </span>
          ))
        )}
      </pre>
    </div>
  );
}

/** The workflow's graph (live task statuses, routes taken) and its run timeline. */
function WorkflowRun({ execution }: { execution: Execution }) {
  const { data, error } = useWorkflowData(execution.id);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="Loading the workflow" />;
  return (
    <>
      <h2>Workflow graph</h2>
      <WorkflowGraph data={data} />
      <h2>Timeline</h2>
      <RunTimeline data={data} />
    </>
  );
}

function Rerun({ execution, onClose }: { execution: Execution; onClose: () => void }) {
  const params = useAsync(
    () =>
      get<{ parameters: Record<string, never> }>(
        `/api/v1/actions/views/overview/${encodeURIComponent(execution.action.ref)}`,
      ),
    [execution.action.ref],
  );
  const fields = fieldsFromParams(params.data?.parameters);
  const [values, setValues] = useState<FormValues | undefined>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    if (params.data) setValues(initialValues(fields, execution.parameters ?? {}));
  }, [params.data]); // eslint-disable-line react-hooks/exhaustive-deps
  if (params.error) return <ErrorBox error={params.error} />;
  if (!values) return <Loading />;
  return (
    <form
      className="card"
      aria-label="Re-run with parameters"
      onSubmit={async (e) => {
        e.preventDefault();
        const r = collect(fields, values);
        setErrors(r.errors);
        if (Object.keys(r.errors).length) return;
        // Masked secrets come back as '********': leave them out so the server keeps the originals.
        const parameters = Object.fromEntries(Object.entries(r.value).filter(([, v]) => v !== '********'));
        try {
          const created = await post<Execution>(`/api/v1/executions/${execution.id}/re_run`, { parameters });
          onClose();
          navigate(href('history', created.id));
        } catch (err) {
          setError(err);
        }
      }}
    >
      <h3>Re-run {execution.action.ref}</h3>
      <SchemaForm fields={fields} values={values} errors={errors} onChange={setValues} />
      <ErrorBox error={error} />
      <div className="row gap">
        <button type="submit" className="primary">
          Re-run
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function ExecutionDetail({ id }: { id: string }) {
  const { can } = useSession();
  const exec = useAsync(
    () => get<Execution>(`/api/v1/executions/${encodeURIComponent(id)}?exclude_attributes=result`),
    [id],
  );
  const [rerun, setRerun] = useState(false);
  const [notice, notify] = useNotice();
  useEffect(
    () =>
      subscribe('st2.execution__update', (data) => {
        const e = data as Execution;
        if (e.id !== id) return;
        exec.setData((old) => (old ? { ...old, ...e } : e));
        exec.changed();
      }),
    [id], // eslint-disable-line react-hooks/exhaustive-deps
  );
  // An update published between the first GET and the stream's opening (a run that ends within a
  // second), or while the stream was down, would never arrive: read the execution again each time
  // the stream opens.
  useStreamOpened(exec.reload);
  if (exec.error) return <ErrorBox error={exec.error} onRetry={exec.reload} />;
  const e = exec.data;
  if (!e) return <Loading what="Loading execution" />;
  const resource = actionResource(e.action.ref);
  const workflow = WORKFLOW_RUNNERS.has(e.runner?.name ?? e.action.runner_type ?? '');
  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      notify('ok', `${what} requested`);
    } catch (err) {
      notify('error', `${what} failed: ${(err as Error).message}`);
    }
  };
  const trace = e.context?.trace_context as { trace_tag?: string; id?: string } | undefined;
  return (
    <section className="page detail">
      <p>
        <a href="#/history">← History</a>
      </p>
      <h1>
        {e.action.ref} <StatusBadge status={e.status} />
      </h1>
      <div className="toolbar" role="toolbar" aria-label="Execution actions">
        {can('execution_rerun', resource) && (
          <button type="button" onClick={() => setRerun(true)}>
            Re-run…
          </button>
        )}
        {CANCELABLE.has(e.status) && can('execution_stop', resource) && (
          <button
            type="button"
            className="danger"
            onClick={() =>
              act('Cancel', async () => {
                // An execution that ended meanwhile: st2's 200 with the reason, not a cancel.
                const answer = await del<{ faultstring?: string }>(`/api/v1/executions/${e.id}`);
                if (answer?.faultstring) throw new Error(answer.faultstring);
              })
            }
          >
            Cancel
          </button>
        )}
        {workflow && e.status === 'running' && can('execution_stop', resource) && (
          <button
            type="button"
            onClick={() => act('Pause', () => put(`/api/v1/executions/${e.id}`, { status: 'pausing' }))}
          >
            Pause
          </button>
        )}
        {workflow && (e.status === 'paused' || e.status === 'pausing') && can('execution_stop', resource) && (
          <button
            type="button"
            onClick={() => act('Resume', () => put(`/api/v1/executions/${e.id}`, { status: 'resuming' }))}
          >
            Resume
          </button>
        )}
      </div>
      {notice}
      {rerun && <Rerun execution={e} onClose={() => setRerun(false)} />}
      <dl className="facts">
        <dt>Id</dt>
        <dd>
          <code>{e.id}</code>
        </dd>
        <dt>User</dt>
        <dd>{e.context?.user ?? ''}</dd>
        <dt>Runner</dt>
        <dd>{e.runner?.name}</dd>
        <dt>Started</dt>
        <dd>{formatTime(e.start_timestamp)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(e.end_timestamp)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(e.elapsed_seconds)}</dd>
        {e.parent && (
          <>
            <dt>Parent</dt>
            <dd>
              <a href={href('history', e.parent)}>{e.parent}</a>
            </dd>
          </>
        )}
        {e.rule?.ref && (
          <>
            <dt>Rule</dt>
            <dd>
              <a href={href('rules', e.rule.ref)}>{e.rule.ref}</a>
            </dd>
          </>
        )}
        {e.trigger_instance?.id && (
          <>
            <dt>Trigger instance</dt>
            <dd>
              <code>{e.trigger_instance.id}</code> {e.trigger?.type ?? e.trigger_type?.ref ?? ''}
            </dd>
          </>
        )}
        <dt>Trace</dt>
        <dd>
          {trace && <code>{trace.trace_tag ?? trace.id}</code>}{' '}
          <a href={href('trace', 'execution', e.id)}>Show the trace</a>
        </dd>
      </dl>
      <h2>Parameters</h2>
      {Object.keys(e.parameters ?? {}).length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table className="table params">
          <tbody>
            {Object.entries(e.parameters ?? {}).map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>
                  {typeof v === 'object' && v !== null ? (
                    <JsonView value={v} label={k} />
                  ) : (
                    <code>{String(v)}</code>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {workflow && <WorkflowRun execution={e} />}
      <h2>Output</h2>
      <Output id={e.id} />
      <h2>Result</h2>
      <Result id={e.id} status={e.status} />
      <details>
        <summary>Status log</summary>
        <ul>
          {(e.log ?? []).map((l, i) => (
            <li key={i}>
              {formatTime(l.timestamp)} — {l.status}
              {l.reason ? ` (${l.reason})` : ''}
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}
