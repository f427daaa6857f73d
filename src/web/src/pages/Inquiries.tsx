import { useMemo, useState } from 'react';
import { get, request, type ParamSpec } from '../api';
import { useLiveEvent, useStreamOpened } from '../live';
import {
  collect,
  fieldsFromJsonSchema,
  initialValues,
  SchemaForm,
  type FormValues,
} from '../components/index';
import { href, navigate } from '../router';
import { ErrorBox, Loading, useAsync, useNotice } from '../ui';

interface Inquiry {
  id: string;
  route?: string;
  ttl?: number;
  users?: string[];
  roles?: string[];
  schema?: {
    properties?: Record<string, ParamSpec>;
    required?: string[];
    description?: string;
    title?: string;
  };
  parent?: string;
}

function Respond({ inquiry, onDone }: { inquiry: Inquiry; onDone: () => void }) {
  // The list is read again whenever an inquiry arrives or the stream reopens: the same inquiry comes
  // back as a new object, and must not wipe an answer half filled in (Respond is keyed by its id).
  const schemaText = JSON.stringify(inquiry.schema ?? {});
  const fields = useMemo(() => fieldsFromJsonSchema(JSON.parse(schemaText)), [schemaText]);
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  return (
    <form
      className="card"
      aria-label={`Respond to inquiry ${inquiry.id}`}
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const r = collect(fields, values);
        setErrors(r.errors);
        if (Object.keys(r.errors).length) return;
        try {
          // The audit trail records who answered and through which client (src/inquiries/README.md).
          await request(
            'PUT',
            `/api/v1/inquiries/${inquiry.id}`,
            { id: inquiry.id, response: r.value },
            { headers: { 'X-Squall-Client': 'ui' } },
          );
          onDone();
        } catch (err) {
          setError(err);
        }
      }}
    >
      {inquiry.schema?.description && <p>{inquiry.schema.description}</p>}
      <SchemaForm fields={fields} values={values} errors={errors} onChange={setValues} />
      <ErrorBox error={error} />
      <button type="submit" className="primary">
        Respond
      </button>
    </form>
  );
}

/** An inquiry's ttl (minutes) as a person says it: "24 h", "1 h 30 min", "45 min". */
function formatMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = Math.round(minutes % 60);
  if (!h) return `${m} min`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

export function Inquiries({ selected }: { selected?: string }) {
  const list = useAsync(() => get<Inquiry[]>('/api/v1/inquiries'), []);
  // A workflow reaching core.ask leaves its ask execution pending: show the new inquiry at once.
  useLiveEvent(
    'st2.execution__update',
    (data) => {
      const e = data as { status?: string; runner?: { name?: string } };
      if (e.status === 'pending' && e.runner?.name === 'inquirer') list.reload();
    },
    [list.reload],
  );
  // One that came before the stream opened (or while it was down) was never announced.
  useStreamOpened(list.reload);
  const [notice, notify] = useNotice();
  const inquiry = list.data?.find((i) => i.id === selected);
  return (
    <section className="page split">
      <aside className="sidebar" aria-label="Pending inquiries">
        <h1>Inquiries</h1>
        <ErrorBox error={list.error} onRetry={list.reload} />
        {list.loading && !list.data && <Loading />}
        <ul className="navlist">
          {list.data?.map((i) => (
            <li key={i.id}>
              <a href={href('inquiries', i.id)} aria-current={i.id === selected ? 'page' : undefined}>
                {i.id}
              </a>
              {i.route && <span className="muted small"> {i.route}</span>}
            </li>
          ))}
        </ul>
        {list.data?.length === 0 && <p className="muted">No pending inquiries.</p>}
      </aside>
      <div className="content">
        {notice}
        {!selected && <p className="muted">Choose a pending inquiry to answer it.</p>}
        {inquiry && (
          <>
            <h2>Inquiry {inquiry.id}</h2>
            <p className="muted small">
              {inquiry.parent && (
                <>
                  workflow <a href={href('history', inquiry.parent)}>{inquiry.parent}</a> ·{' '}
                </>
              )}
              {inquiry.users?.length ? `users: ${inquiry.users.join(', ')} · ` : ''}
              {inquiry.roles?.length ? `roles: ${inquiry.roles.join(', ')} · ` : ''}
              {inquiry.ttl !== undefined ? `times out ${formatMinutes(inquiry.ttl)} after it was asked` : ''}
            </p>
            <Respond
              key={inquiry.id}
              inquiry={inquiry}
              onDone={() => {
                notify('ok', `Answered inquiry ${inquiry.id}`);
                list.reload();
                navigate('#/inquiries');
              }}
            />
          </>
        )}
      </div>
    </section>
  );
}
