import { useState } from 'react';
import { del, get, post } from '../api';
import { navigate } from '../router';
import { ErrorBox, formatTime, Loading, useAsync, useNotice, useSession } from '../ui';

interface ChatIdentity {
  platform: string;
  workspace: string;
  chat_user: { id: string; name: string };
}

interface ChatLink extends ChatIdentity {
  id: string;
  user: string;
  created_at: string;
}

const who = (i: ChatIdentity) =>
  `${i.chat_user.name} (${i.chat_user.id}) on ${i.platform}${i.workspace ? ` ${i.workspace}` : ''}`;

/**
 * `#/chat-link/<token>`, the page `!link` sends a chat user to: after logging in they see which
 * chat identity the link is for and confirm it, which binds it to them.
 */
export function ChatLinkConfirm({ token }: { token: string }) {
  const { user } = useSession();
  const preview = useAsync(() => post<ChatIdentity & { expires_at: string }>('/api/v1/chatops/links/preview', { token }), [token]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await post('/api/v1/chatops/links', { token });
      // The token is spent; leave its URL for the list of links.
      navigate('#/chatlinks?linked=1');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <section className="page">
      <h1>Link a chat account</h1>
      <ErrorBox error={preview.error ?? error} />
      {preview.loading && !preview.data && <Loading />}
      {preview.data && (
        <>
          <p data-testid="chat-link-preview">
            Commands from <strong>{who(preview.data)}</strong> will run as your Squall account{' '}
            <strong>{user.username}</strong>, with your permissions.
          </p>
          <p className="muted small">This link works once and expires {formatTime(preview.data.expires_at)}.</p>
          <button type="button" className="primary" disabled={busy} onClick={() => void confirm()}>
            Link to {user.username}
          </button>{' '}
          <a href="#/chatlinks">Cancel</a>
        </>
      )}
    </section>
  );
}

/** `#/chatlinks`: the chat identities linked to you (an admin sees everyone's), each revocable. */
export function ChatLinks({ linked }: { linked: boolean }) {
  const list = useAsync(() => get<ChatLink[]>('/api/v1/chatops/links'), []);
  const [notice, notify] = useNotice();
  const revoke = async (link: ChatLink) => {
    try {
      await del(`/api/v1/chatops/links/${encodeURIComponent(link.id)}`);
      notify('ok', `Unlinked ${who(link)}.`);
      list.reload();
    } catch (err) {
      notify('error', (err as Error).message);
    }
  };
  return (
    <section className="page">
      <h1>Chat links</h1>
      {linked && <div className="notice" role="status">Linked. Your chat commands now run as you.</div>}
      {notice}
      <p className="muted">Say <code>!link</code> to the bot in chat to link another chat account.</p>
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.length > 0 && (
        <table className="table">
          <thead><tr><th>Chat user</th><th>Platform</th><th>Workspace</th><th>Squall user</th><th>Linked</th><th /></tr></thead>
          <tbody>
            {list.data.map((l) => (
              <tr key={l.id}>
                <td>{l.chat_user.name} <span className="muted small">{l.chat_user.id}</span></td>
                <td>{l.platform}</td>
                <td>{l.workspace}</td>
                <td>{l.user}</td>
                <td>{formatTime(l.created_at)}</td>
                <td><button type="button" onClick={() => void revoke(l)}>Revoke</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.data?.length === 0 && <p className="muted">No chat accounts are linked.</p>}
    </section>
  );
}
