import { get } from '../api';
import { href } from '../router';
import { ErrorBox, formatTime, Loading, StatusBadge, useAsync } from '../ui';

interface ChatCommand {
  id: string;
  timestamp?: string;
  created_at?: string;
  user?: string | { id?: string; name?: string };
  actor?: string;
  adapter?: string;
  outcome?: string;
  reply?: string | null;
  source_channel?: string;
  channel?: string;
  command?: string;
  text?: string;
  alias?: string | { ref?: string };
  execution_id?: string;
  status?: string;
  error?: string;
}

export function ChatLog() {
  const list = useAsync(() => get<ChatCommand[]>('/api/v1/chatops/commands?limit=100'), []);
  return (
    <section className="page">
      <h1>Chat log</h1>
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data && (
        <table className="table">
          <thead><tr><th>When</th><th>User</th><th>Channel</th><th>Command</th><th>Alias</th><th>Outcome</th><th>Execution</th></tr></thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.id}>
                <td>{formatTime(c.timestamp ?? c.created_at)}</td>
                <td>{typeof c.user === 'object' ? c.user?.name : c.user}{c.actor ? <span className="muted small"> as {c.actor}</span> : null}</td>
                <td>{c.adapter ? `${c.adapter} ` : ''}{c.source_channel ?? c.channel}</td>
                <td><code>{c.command ?? c.text}</code>{c.error && <div className="field-error">{c.error}</div>}</td>
                <td>{typeof c.alias === 'string' ? c.alias : c.alias?.ref}</td>
                <td>{c.outcome}{c.reply ? <div className="muted small">{c.reply}</div> : null}</td>
                <td>
                  {c.execution_id && <a href={href('history', c.execution_id)}>{c.execution_id}</a>} {c.status && <StatusBadge status={c.status} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data?.length === 0 && <p className="muted">No chat commands yet.</p>}
    </section>
  );
}
