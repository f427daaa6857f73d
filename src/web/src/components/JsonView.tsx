import { useState } from 'react';
import { countOf } from '../ui';

const CHUNK = 100;
const STRING_CHUNK = 2000;

/**
 * A JSON tree that renders only what is open, children in chunks of 100 and long strings in
 * slices of 2000 characters: opening a 5 MB result costs no more than opening a small one.
 */
export function JsonView({ value, label, open = true }: { value: unknown; label?: string; open?: boolean }) {
  return (
    <div className="json" role="tree" aria-label={label ?? 'JSON'}>
      <Node value={value} name={undefined} depth={0} initiallyOpen={open} />
    </div>
  );
}

function Scalar({ value }: { value: unknown }) {
  const [shown, setShown] = useState(STRING_CHUNK);
  if (value === null) return <span className="j-null">null</span>;
  if (typeof value === 'string') {
    if (value.length <= shown) return <span className="j-str">"{value}"</span>;
    return (
      <span className="j-str">
        "{value.slice(0, shown)}…"
        <button type="button" className="link small" onClick={() => setShown((s) => s * 4)}>
          show more ({value.length - shown} more characters)
        </button>
      </span>
    );
  }
  if (typeof value === 'number') return <span className="j-num">{String(value)}</span>;
  if (typeof value === 'boolean') return <span className="j-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Node({
  value,
  name,
  depth,
  initiallyOpen,
}: {
  value: unknown;
  name?: string;
  depth: number;
  initiallyOpen: boolean;
}) {
  const isArray = Array.isArray(value);
  const isObject = value !== null && typeof value === 'object';
  const [open, setOpen] = useState(initiallyOpen && depth < 1);
  const [limit, setLimit] = useState(CHUNK);
  const key = name !== undefined ? <span className="j-key">{name}: </span> : null;
  if (!isObject) {
    return (
      <div className="j-row" role="treeitem">
        {key}
        <Scalar value={value} />
      </div>
    );
  }
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).slice(0, limit).map((v, i) => [String(i), v])
    : Object.keys(value as object)
        .slice(0, limit)
        .map((k) => [k, (value as Record<string, unknown>)[k]]);
  const size = isArray ? (value as unknown[]).length : Object.keys(value as object).length;
  const summary = isArray ? `[${countOf(size, 'item')}]` : `{${countOf(size, 'key')}}`;
  return (
    <div className="j-row" role="treeitem" aria-expanded={open}>
      <button
        type="button"
        className="j-toggle"
        onClick={() => setOpen((o) => !o)}
        aria-label={`${open ? 'Collapse' : 'Expand'} ${name ?? 'root'}`}
      >
        {open ? '▾' : '▸'}
      </button>
      {key}
      <span className="muted">{summary}</span>
      {open && (
        <div className="j-children" role="group">
          {entries.map(([k, v]) => (
            <Node key={k} name={k} value={v} depth={depth + 1} initiallyOpen={false} />
          ))}
          {size > limit && (
            <button type="button" className="link small" onClick={() => setLimit((l) => l + CHUNK * 5)}>
              show {Math.min(CHUNK * 5, size - limit)} more of {size - limit} remaining
            </button>
          )}
        </div>
      )}
    </div>
  );
}
