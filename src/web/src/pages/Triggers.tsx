import { get, getAll, post, qs, type ParamSpec } from '../api';
import { JsonView } from '../components/index';
import { href } from '../router';
import { ErrorBox, formatTime, Loading, StatusBadge, useAsync, useNotice } from '../ui';

interface TriggerType {
  ref: string;
  description?: string;
  parameters_schema?: { properties?: Record<string, ParamSpec> };
  payload_schema?: { properties?: Record<string, ParamSpec> };
}
interface Instance {
  id: string;
  trigger: string;
  occurrence_time: string;
  status?: string;
  payload: unknown;
}

function Instances({ type }: { type: string }) {
  const list = useAsync(
    () => get<Instance[]>(`/api/v1/triggerinstances${qs({ trigger_type: type, limit: 50 })}`),
    [type],
  );
  const [notice, notify] = useNotice();
  if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data) return <Loading />;
  if (list.data.length === 0) return <p className="muted">No instances yet.</p>;
  return (
    <>
      {notice}
      <table className="table">
        <thead>
          <tr>
            <th>When</th>
            <th>Id</th>
            <th>Status</th>
            <th>Payload</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list.data.map((i) => (
            <tr key={i.id}>
              <td>{formatTime(i.occurrence_time)}</td>
              <td>
                <code>{i.id}</code> <a href={href('trace', 'trigger_instance', i.id)}>Trace</a>
              </td>
              <td>{i.status ? <StatusBadge status={i.status} /> : ''}</td>
              <td>
                <JsonView value={i.payload} open={false} label={`Payload of ${i.id}`} />
              </td>
              <td>
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      await post(`/api/v1/triggerinstances/${i.id}/re_emit`);
                      notify('ok', `Re-emitted ${i.id}`);
                      list.reload();
                    } catch (err) {
                      notify('error', `Re-emit failed: ${(err as Error).message}`);
                    }
                  }}
                >
                  Re-emit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Triggers({ selected }: { selected?: string }) {
  const types = useAsync(() => getAll<TriggerType>('/api/v1/triggertypes'), []);
  const tt = types.data?.find((t) => t.ref === selected);
  return (
    <section className="page split">
      <aside className="sidebar" aria-label="Trigger types">
        <h1>Triggers</h1>
        <ErrorBox error={types.error} onRetry={types.reload} />
        <ul className="navlist">
          {types.data?.map((t) => (
            <li key={t.ref}>
              <a href={href('triggers', t.ref)} aria-current={t.ref === selected ? 'page' : undefined}>
                {t.ref}
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <div className="content">
        {!selected && <p className="muted">Choose a trigger type to see its schemas and recent instances.</p>}
        {tt && (
          <>
            <h2>{tt.ref}</h2>
            <p>{tt.description}</p>
            <div className="grid2">
              <div>
                <h3>Parameters schema</h3>
                {tt.parameters_schema ? (
                  <JsonView value={tt.parameters_schema} label="Parameters schema" />
                ) : (
                  <p className="muted">None.</p>
                )}
              </div>
              <div>
                <h3>Payload schema</h3>
                {tt.payload_schema ? (
                  <JsonView value={tt.payload_schema} label="Payload schema" />
                ) : (
                  <p className="muted">None.</p>
                )}
              </div>
            </div>
            <h3>Recent instances</h3>
            <Instances type={tt.ref} />
          </>
        )}
      </div>
    </section>
  );
}
