import type { GroupRow, GroupSpec } from './types.js';

type Doc = Record<string, unknown>;
type KeyValue = GroupRow['key'][string];

function dotValue(doc: Doc, path: string): unknown {
  let v: unknown = doc;
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object') return undefined;
    v = (v as Doc)[part];
  }
  return v;
}

function keyValue(v: unknown, prefix?: number): KeyValue {
  if (typeof v === 'string') return prefix !== undefined ? v.slice(0, prefix) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return null;
}

/** Every field a group reads, for a projection (the records' other fields are never needed). */
export function groupFields(spec: GroupSpec): string[] {
  return [...Object.values(spec.by).map((b) => b.field), ...Object.values(spec.sum ?? {})];
}

/**
 * Folds records into groups one at a time (memory grows with the groups, not the records): for a
 * store that cannot group a filter itself (FerretDB 1.x has no $substrBytes and sums nothing).
 */
export class GroupReducer {
  private readonly groups = new Map<string, GroupRow>();

  constructor(private readonly spec: GroupSpec) {}

  add(doc: Doc): void {
    const key: GroupRow['key'] = {};
    for (const [name, { field, prefix }] of Object.entries(this.spec.by))
      key[name] = keyValue(dotValue(doc, field), prefix);
    const id = JSON.stringify(key);
    let row = this.groups.get(id);
    if (!row) {
      row = { key, count: 0, sums: Object.fromEntries(Object.keys(this.spec.sum ?? {}).map((k) => [k, 0])) };
      this.groups.set(id, row);
    }
    row.count++;
    for (const [name, field] of Object.entries(this.spec.sum ?? {})) {
      const v = dotValue(doc, field);
      if (typeof v === 'number' && Number.isFinite(v)) row.sums[name] += v;
    }
  }

  rows(): GroupRow[] {
    return [...this.groups.values()];
  }
}

export function reduceGroups(docs: Iterable<Doc>, spec: GroupSpec): GroupRow[] {
  const reducer = new GroupReducer(spec);
  for (const doc of docs) reducer.add(doc);
  return reducer.rows();
}
