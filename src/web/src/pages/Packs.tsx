import { useEffect, useMemo, useState } from 'react';
import { ApiError, get, getAll, post, put, type ParamSpec } from '../api';
import { collect, fieldsFromParams, initialValues, SchemaForm, type FormValues } from '../components/index';
import { href } from '../router';
import { ErrorBox, Loading, useAsync, useNotice, useSession } from '../ui';

interface Pack {
  ref: string;
  name: string;
  description?: string;
  version?: string;
  author?: string;
  path?: string;
}

/** `config of pack "x" is invalid: a: why; b.c: why` → {a: 'why', b: 'c: why'}, for the form's fields. */
function serverFieldErrors(err: unknown, names: string[]): Record<string, string> {
  const message = err instanceof ApiError && err.status === 400 ? err.message : '';
  const list = message.slice(message.indexOf('invalid: ') + 'invalid: '.length);
  const out: Record<string, string> = {};
  if (!message.includes('invalid: ')) return out;
  for (const part of list.split('; ')) {
    const at = part.indexOf(': ');
    if (at < 0) continue;
    const field = part.slice(0, at);
    const top = names.find((n) => field === n || field.startsWith(`${n}.`));
    if (top) out[top] = field === top ? part.slice(at + 2) : part.slice(top.length + 1);
  }
  return out;
}

function ConfigForm({ pack }: { pack: string }) {
  // The list holds only packs that have a schema: a pack without one is not a failed request.
  const schema = useAsync(
    () =>
      get<{ pack: string; attributes?: Record<string, ParamSpec> }[]>('/api/v1/config_schemas').then(
        (all) => all.find((s) => s.pack === pack) ?? null,
      ),
    [pack],
  );
  const config = useAsync(
    () =>
      get<{ values?: Record<string, unknown> }>(
        `/api/v1/configs/${encodeURIComponent(pack)}?show_secrets=false`,
      ).catch(() => ({ values: {} })),
    [pack],
  );
  const attrs = schema.data?.attributes;
  const fields = useMemo(
    () =>
      fieldsFromParams(
        attrs && typeof attrs === 'object'
          ? Object.fromEntries(
              Object.entries(attrs).filter(
                ([k, v]) => v && typeof v === 'object' && !['id', 'uid', 'pack'].includes(k),
              ),
            )
          : {},
      ),
    [attrs],
  );
  const [values, setValues] = useState<FormValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [notice, notify] = useNotice();
  useEffect(() => setValues(initialValues(fields, config.data?.values ?? {})), [fields, config.data]);
  if (schema.error) return <ErrorBox error={schema.error} onRetry={schema.reload} />;
  if (schema.loading) return <Loading what="Loading config schema" />;
  if (!schema.data) return <p className="muted">This pack has no configuration.</p>;
  return (
    <form
      aria-label={`Configuration of ${pack}`}
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const r = collect(fields, values);
        setErrors(r.errors);
        if (Object.keys(r.errors).length) {
          setError(
            new Error(
              `The configuration is not valid: ${Object.entries(r.errors)
                .map(([k, v]) => `${k} ${v}`)
                .join('; ')}`,
            ),
          );
          return;
        }
        setError(undefined);
        try {
          await put(
            `/api/v1/configs/${encodeURIComponent(pack)}`,
            Object.fromEntries(Object.entries(r.value).filter(([, v]) => v !== '********')),
          );
          setError(undefined);
          notify('ok', 'Configuration saved');
        } catch (err) {
          setError(err);
          // The server names each bad field ("options.timeout: must be integer"): mark them too.
          setErrors(
            serverFieldErrors(
              err,
              fields.map((f) => f.name),
            ),
          );
        }
      }}
    >
      <SchemaForm fields={fields} values={values} errors={errors} onChange={setValues} />
      <ErrorBox error={error} />
      {notice}
      <button type="submit" className="primary">
        Save configuration
      </button>
    </form>
  );
}

function Install() {
  const [source, setSource] = useState('');
  const [force, setForce] = useState(false);
  const [error, setError] = useState<unknown>();
  const [notice, notify] = useNotice();
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="card"
      aria-label="Install a pack"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          const r = await post<{ execution_id?: string; id?: string }>('/api/v1/packs/install', {
            packs: [source.trim()],
            force,
          });
          const id = r.execution_id ?? r.id;
          notify(
            'ok',
            id ? (
              <>
                Installing — <a href={href('history', id)}>follow the execution</a>
              </>
            ) : (
              'Installed'
            ),
          );
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h3>Install a pack</h3>
      <label>
        Git URL, local path or exchange name
        <input
          value={source}
          onChange={(e) => setSource(e.target.value)}
          placeholder="https://github.com/org/pack.git  or  /srv/packs/mypack"
          required
        />
      </label>
      <label className="check">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} /> Force
        (reinstall)
      </label>
      <ErrorBox error={error} />
      {notice}
      <button type="submit" disabled={busy || !source.trim()}>
        {busy ? 'Installing…' : 'Install'}
      </button>
    </form>
  );
}

export function Packs({ selected }: { selected?: string }) {
  const { can } = useSession();
  const packs = useAsync(() => getAll<Pack>('/api/v1/packs'), []);
  const pack = packs.data?.find((p) => p.ref === selected || p.name === selected);
  const actions = useAsync(
    () =>
      selected
        ? getAll<{ ref: string; name: string; description?: string }>(
            `/api/v1/actions?pack=${encodeURIComponent(selected)}&include_attributes=ref,name,description`,
          )
        : Promise.resolve([]),
    [selected],
  );
  const sensors = useAsync(
    () =>
      selected
        ? getAll<{ ref: string; description?: string }>(
            `/api/v1/sensortypes?pack=${encodeURIComponent(selected)}`,
          ).catch(() => [])
        : Promise.resolve([]),
    [selected],
  );
  return (
    <section className="page split">
      <aside className="sidebar" aria-label="Packs">
        <h1>Packs</h1>
        <ErrorBox error={packs.error} onRetry={packs.reload} />
        <ul className="navlist">
          {packs.data?.map((p) => (
            <li key={p.ref}>
              <a href={href('packs', p.ref)} aria-current={p.ref === selected ? 'page' : undefined}>
                {p.ref}
              </a>{' '}
              <span className="muted small">{p.version}</span>
            </li>
          ))}
        </ul>
      </aside>
      <div className="content">
        {!selected && can('pack_install') && <Install />}
        {!selected && <p className="muted">Choose a pack to see its content and configuration.</p>}
        {pack && (
          <>
            <h2>
              {pack.ref} <span className="muted small">{pack.version}</span>
            </h2>
            <p>{pack.description}</p>
            {pack.author && <p className="muted small">by {pack.author}</p>}
            <h3>Actions</h3>
            <ErrorBox error={actions.error} />
            <ul>
              {actions.data?.map((a) => (
                <li key={a.ref}>
                  <a href={href('actions', a.ref)}>{a.name}</a>{' '}
                  <span className="muted small">{a.description}</span>
                </li>
              ))}
            </ul>
            {sensors.data && sensors.data.length > 0 && (
              <>
                <h3>Sensors</h3>
                <ul>
                  {sensors.data.map((s) => (
                    <li key={s.ref}>
                      {s.ref} <span className="muted small">{s.description}</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
            <h3>Configuration</h3>
            <ConfigForm pack={pack.ref} />
          </>
        )}
      </div>
    </section>
  );
}
