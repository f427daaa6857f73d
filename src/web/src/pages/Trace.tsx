import { get, qs, type TraceNode, type TraceTree } from '../api';
import { useLiveEvent, useStreamOpened } from '../live';
import { href } from '../router';
import { ErrorBox, formatTime, Loading, StatusBadge, useAsync } from '../ui';
import '../components/workflow.css';

/** What a trace can be opened from: `#/trace/<from>/<id>`. */
const FROM = new Set(['execution', 'trigger_instance', 'rule_enforcement', 'trace']);

const KIND_LABEL: Record<TraceNode['kind'], string> = {
  source: 'source',
  trigger_instance: 'trigger instance',
  rule_enforcement: 'rule matched',
  rule_not_matched: 'rule not matched',
  execution: 'execution',
  chat_command: 'chat command',
  chat_delivery: 'chat',
};

/** Where each node's record is shown. */
function linkOf(n: TraceNode): string | undefined {
  switch (n.kind) {
    case 'execution':
      return href('history', n.id);
    case 'trigger_instance':
    case 'source':
      return n.ref ? href('triggers', n.ref) : undefined;
    case 'rule_enforcement':
    case 'rule_not_matched':
      return n.ref ? href('rules', n.ref) : undefined;
    case 'chat_command':
    case 'chat_delivery':
      return '#/chatlog';
  }
}

function Node({ node, focus }: { node: TraceNode; focus: string }) {
  const link = linkOf(node);
  return (
    <li data-kind={node.kind} data-id={node.id}>
      <span
        className={`trace-node${node.id === focus ? ' trace-focus' : ''}${node.kind === 'rule_not_matched' ? ' trace-unmatched' : ''}`}
        title={[
          node.detail,
          node.time ? formatTime(node.time) : '',
          node.kind !== 'source' ? `id ${node.id}` : '',
        ]
          .filter(Boolean)
          .join('\n')}
      >
        <span className="trace-kind">{KIND_LABEL[node.kind]}</span>
        {link ? <a href={link}>{node.title}</a> : <span>{node.title}</span>}
        {node.status && <StatusBadge status={node.status} />}
        {node.detail && (
          <span className="muted small trace-detail">
            {node.detail.length > 120 ? `${node.detail.slice(0, 119)}…` : node.detail}
          </span>
        )}
        {node.time && <span className="muted small">{formatTime(node.time)}</span>}
      </span>
      {node.children.length > 0 && (
        <ul>
          {node.children.map((c) => (
            <Node key={`${c.kind}:${c.id}`} node={c} focus={focus} />
          ))}
        </ul>
      )}
    </li>
  );
}

function shows(tree: TraceTree, id: string): boolean {
  const has = (n: TraceNode): boolean => n.id === id || n.children.some(has);
  return tree.roots.some(has);
}

/** The whole trace an execution, trigger instance or rule enforcement belongs to, as a tree. */
export function Trace({ from, id }: { from?: string; id?: string }) {
  const valid = from !== undefined && id !== undefined && FROM.has(from);
  const tree = useAsync(
    () =>
      valid ? get<TraceTree>(`/api/v1/traces/views/tree${qs({ [from]: id })}`) : Promise.resolve(undefined),
    [from, id],
  );
  // Executions of the trace change state and their children join it: read it again then.
  const shown = new Set<string>();
  const walk = (n: TraceNode) => {
    shown.add(n.id);
    n.children.forEach(walk);
  };
  tree.data?.roots.forEach(walk);
  useLiveEvent(
    'st2.execution__update',
    (data) => {
      const e = data as { id?: string; parent?: string };
      if (shown.has(e.id ?? '') || shown.has(e.parent ?? '')) tree.reload();
      else tree.changed((answer) => Boolean(answer && [e.id, e.parent].some((x) => x && shows(answer, x))));
    },
    [from, id, tree.data],
  );
  useStreamOpened(tree.reload);
  if (!valid)
    return (
      <ErrorBox
        error={
          new Error(
            'Open a trace from an execution, a trigger instance or a rule enforcement: #/trace/execution/<id>',
          )
        }
      />
    );
  return (
    <section className="page">
      <h1>Trace</h1>
      <ErrorBox error={tree.error} onRetry={tree.reload} />
      {!tree.data && !tree.error && <Loading what="Loading the trace" />}
      {tree.data && (
        <>
          <p className="muted small">
            tag <code>{tree.data.trace.trace_tag}</code> · trace <code>{tree.data.trace.id}</code> · started{' '}
            {formatTime(tree.data.trace.start_timestamp)}
          </p>
          <ul className="trace-tree" aria-label="Trace">
            {tree.data.roots.map((n) => (
              <Node key={`${n.kind}:${n.id}`} node={n} focus={id!} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
