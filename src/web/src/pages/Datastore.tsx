import { useState } from 'react';
import { del, get, put, qs } from '../api';
import { ErrorBox, formatTime, Loading, useAsync, useNotice, useSession } from '../ui';

interface Key {
  name: string;
  value: string;
  secret?: boolean;
  scope: string;
  user?: string;
  expire_timestamp?: string;
}

export function Datastore() {
  const { user } = useSession();
  const [scope, setScope] = useState('system');
  const [prefix, setPrefix] = useState('');
  const [decrypt, setDecrypt] = useState(false);
  const keys = useAsync(() => get<Key[]>(`/api/v1/keys${qs({ scope, prefix, decrypt: decrypt || undefined, limit: 100 })}`), [scope, prefix, decrypt]);
  const [form, setForm] = useState({ name: '', value: '', secret: false, ttl: '' });
  const [error, setError] = useState<unknown>();
  const [notice, notify] = useNotice();
  const canDecrypt = user.rbac.is_admin || scope === 'user';
  return (
    <section className="page">
      <h1>Datastore</h1>
      <div className="filters row gap">
        <label>
          Scope
          <select value={scope} onChange={(e) => setScope(e.target.value)}>
            <option value="system">system</option>
            <option value="user">user</option>
            {user.rbac.is_admin && <option value="all">all</option>}
          </select>
        </label>
        <label>Prefix<input type="search" value={prefix} onChange={(e) => setPrefix(e.target.value)} /></label>
        {canDecrypt && (
          <label className="check"><input type="checkbox" checked={decrypt} onChange={(e) => setDecrypt(e.target.checked)} /> Show secrets</label>
        )}
      </div>
      <ErrorBox error={keys.error} onRetry={keys.reload} />
      {notice}
      {keys.loading && !keys.data && <Loading />}
      <table className="table">
        <thead><tr><th>Name</th><th>Value</th><th>Scope</th><th>Expires</th><th /></tr></thead>
        <tbody>
          {keys.data?.map((k) => (
            <tr key={`${k.scope}:${k.user ?? ''}:${k.name}`}>
              <td><code>{k.name}</code>{k.secret && <span className="tag">secret</span>}</td>
              <td className="value">{k.secret && !decrypt ? <span className="muted">••••••••</span> : <code>{k.value}</code>}</td>
              <td>{k.scope}{k.user ? ` (${k.user})` : ''}</td>
              <td>{formatTime(k.expire_timestamp)}</td>
              <td>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${k.name}`}
                  onClick={async () => {
                    if (!window.confirm(`Delete key ${k.name}?`)) return;
                    try {
                      await del(`/api/v1/keys/${encodeURIComponent(k.name)}${qs({ scope: k.scope.replace('st2kv.', ''), user: k.user })}`);
                      notify('ok', `Deleted ${k.name}`);
                      keys.reload();
                    } catch (err) {
                      notify('error', `Delete failed: ${(err as Error).message}`);
                    }
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {keys.data?.length === 0 && <p className="muted">No keys.</p>}
      <form
        className="card"
        aria-label="Set a key"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          const ttl = form.ttl.trim() ? Number(form.ttl) : undefined;
          if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
            setError(new Error('TTL must be a whole number of seconds'));
            return;
          }
          try {
            await put(`/api/v1/keys/${encodeURIComponent(form.name)}`, {
              name: form.name,
              value: form.value,
              scope: scope === 'all' ? 'system' : scope,
              ...(form.secret ? { secret: true } : {}),
              ...(ttl ? { ttl } : {}),
            });
            notify('ok', `Saved ${form.name}`);
            setForm({ name: '', value: '', secret: false, ttl: '' });
            keys.reload();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <h3>Set a key ({scope === 'all' ? 'system' : scope} scope)</h3>
        <div className="grid2">
          <label>Name<input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required /></label>
          <label>Value<input type={form.secret ? 'password' : 'text'} autoComplete="off" value={form.value} onChange={(e) => setForm({ ...form, value: e.target.value })} /></label>
          <label>TTL (seconds)<input type="number" min={1} value={form.ttl} onChange={(e) => setForm({ ...form, ttl: e.target.value })} /></label>
          <label className="check"><input type="checkbox" checked={form.secret} onChange={(e) => setForm({ ...form, secret: e.target.checked })} /> Secret (encrypted)</label>
        </div>
        <ErrorBox error={error} />
        <button type="submit" className="primary">Save key</button>
      </form>
    </section>
  );
}
