import type { CollectionSpec, IndexSpec, SortSpec } from '../types.js';

type Doc = Record<string, unknown>;
type Bindable = string | number;

/**
 * The SQL expression for a stored field: the record's id column, or the field extracted from its
 * JSON text. Indexes are declared on exactly these expressions, so SQLite's planner matches a
 * WHERE or ORDER BY term to its index only when both are spelled by this one function.
 */
export function fieldExpr(path: string): string {
  if (path === '_id') return 'id';
  return `json_extract(doc, ${jsonPath(path)})`;
}

/** A stored field's JSON path as a SQL string literal: `'$."action"."ref"'`. */
export function jsonPath(path: string): string {
  const segments = path.split('.').map((s) => `"${s.replace(/"/g, '""')}"`);
  return `'$.${segments.join('.').replace(/'/g, "''")}'`;
}

/** The SQL expression an index keeps for its `i`th field. */
export function indexExpr(index: IndexSpec, field: string, i: number): string {
  return index.presence && i === 0 ? presenceExpr(field) : fieldExpr(field);
}

/** NULL exactly when the field is missing (a stored null is 'null'): `$exists` in SQL. */
export function presenceExpr(path: string): string {
  return `json_type(doc, ${jsonPath(path)})`;
}

/** The fields this collection has a (scalar) index on: the only ones a filter is pushed down for. */
export function indexedFields(spec: CollectionSpec): Set<string> {
  const out = new Set<string>(['_id']);
  for (const index of spec.indexes) {
    if (index.multikey) continue;
    Object.keys(index.fields).forEach((field, i) =>
      out.add(index.presence && i === 0 ? `$exists:${field}` : field),
    );
  }
  return out;
}

export interface Plan {
  where: string;
  params: Bindable[];
  /**
   * True when the WHERE clause selects exactly the records the filter matches, so no record has to
   * be checked in JavaScript; otherwise it selects a superset, and each candidate is matched.
   */
  exact: boolean;
}

/** Longest `$in` list bound as one parameter per value (each longer one is bound as one JSON array). */
export const IN_PLACEHOLDERS = 1000;

function bindable(v: unknown): v is Bindable {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * Translates what it can of a MongoDB-shaped filter into SQL over indexed fields. Indexed fields
 * hold scalars (a record's ref, status, timestamps), so `field = value` selects what MongoDB's
 * equality would; anything else (regexes, $ne, $or, unindexed fields) is left to the matcher.
 * A text comparison only selects text (SQLite orders numbers before text, MongoDB never compares
 * across types), and a number is never exact (MongoDB also matches 1 with 1.0, stored as either).
 */
export function plan(filter: Doc, indexed: Set<string>): Plan {
  const terms: string[] = [];
  const params: Bindable[] = [];
  let exact = true;
  const add = (term: string, ...values: Bindable[]) => {
    terms.push(term);
    params.push(...values);
  };
  const visit = (f: Doc) => {
    for (const [key, value] of Object.entries(f)) {
      if (key === '$and' && Array.isArray(value)) {
        for (const part of value) visit(part as Doc);
        continue;
      }
      const existsOnly =
        !!value && typeof value === 'object' && Object.keys(value).length === 1 && '$exists' in value;
      if (existsOnly && indexed.has(`$exists:${key}`) && typeof (value as Doc).$exists === 'boolean') {
        add(`${presenceExpr(key)} IS ${(value as Doc).$exists ? 'NOT ' : ''}NULL`);
        continue;
      }
      if (key.startsWith('$') || !indexed.has(key)) {
        exact = false;
        continue;
      }
      const expr = fieldExpr(key);
      if (bindable(value)) {
        add(`${expr} = ?`, value);
        if (typeof value !== 'string') exact = false;
        continue;
      }
      if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof RegExp) {
        exact = false;
        continue;
      }
      for (const [op, operand] of Object.entries(value as Doc)) {
        if (op === '$ne' && operand === null) {
          // json_extract gives NULL for a missing field and for null alike, as MongoDB's $ne: null.
          add(`${expr} IS NOT NULL`);
        } else if (op === '$eq' && bindable(operand)) {
          add(`${expr} = ?`, operand);
          if (typeof operand !== 'string') exact = false;
        } else if (op === '$in' && Array.isArray(operand) && operand.every((v) => typeof v === 'string')) {
          if (operand.length === 0) add('0');
          else if (operand.length <= IN_PLACEHOLDERS)
            add(`${expr} IN (${operand.map(() => '?').join(',')})`, ...(operand as string[]));
          // One parameter whatever the list's size: SQLite refuses more than 32,766 in a statement
          // ("too many SQL variables"), and spreading 100,000s of them overflowed the stack. A
          // trace's members, a with-items workflow's asked tasks reach such lists; the index is
          // still used (a list subquery).
          else add(`${expr} IN (SELECT value FROM json_each(?))`, JSON.stringify(operand));
        } else if (['$lt', '$lte', '$gt', '$gte'].includes(op) && typeof operand === 'string') {
          const sql = { $lt: '<', $lte: '<=', $gt: '>', $gte: '>=' }[op as '$lt'];
          add(`${expr} ${sql} ?`, operand);
          if (op === '$lt' || op === '$lte') add(`typeof(${expr}) = 'text'`);
        } else {
          exact = false;
        }
      }
    }
  };
  visit(filter);
  return { where: terms.length ? terms.join(' AND ') : '1', params, exact };
}

/** ORDER BY for a sort spec (insertion order breaks ties, and is the order without a sort). */
export function orderBy(sort: SortSpec | undefined): string {
  const keys = Object.entries(sort ?? {}).map(([k, dir]) => `${fieldExpr(k)} ${dir < 0 ? 'DESC' : 'ASC'}`);
  return [...keys, 'rowid ASC'].join(', ');
}
