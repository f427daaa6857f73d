import type { CollectionSpec, Filter, SortSpec, Update } from './types.js';

/**
 * Translation between domain records and stored documents, shared by both stores:
 * `id` ↔ `_id`, opaque fields ↔ JSON text, and key escaping so that any other key (dots,
 * leading `$`) is storable in nedb and MongoDB alike.
 */
const DOT = '\uFF0E';
const DOLLAR = '\uFF04';

function escapeKey(key: string): string {
  let out = key.includes('.') ? key.split('.').join(DOT) : key;
  if (out.startsWith('$')) out = DOLLAR + out.slice(1);
  return out;
}

function unescapeKey(key: string): string {
  let out = key.includes(DOT) ? key.split(DOT).join('.') : key;
  if (out.startsWith(DOLLAR)) out = '$' + out.slice(1);
  return out;
}

function mapKeys(value: unknown, fn: (k: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapKeys(v, fn));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[fn(k)] = mapKeys(v, fn);
    return out;
  }
  return value;
}

/**
 * mapKeys(value, escapeKey) for a value that is stringified before its owner can change it (the
 * embedded store writes a row synchronously): plain objects and arrays whose keys need no escape
 * are returned as they are, not copied (an execution's ~1 KB was copied key by key at its insert).
 * Anything else that is an object (a class instance) is copied by mapKeys as before.
 */
function escapeShared(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const e = escapeShared(v);
      if (e !== v) (out ??= value.slice())[i] = e;
    }
    return out ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return mapKeys(value, escapeKey);
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    // An own `__proto__` key is lost in mapKeys' copy (it sets the copy's prototype): copied as before.
    if (k === '__proto__' || escapeKey(k) !== k || escapeShared(v) !== v) return mapKeys(value, escapeKey);
  }
  return obj;
}

/**
 * mapKeys for a document the caller owns (fresh from JSON.parse or a driver): a value whose keys
 * need no change is returned as it is, not copied. Reading a record no longer deep-copies it
 * once more after parsing; only the objects that hold an escaped key are rebuilt.
 */
function unescapeOwned(value: unknown): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = unescapeOwned(value[i]);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return out ?? value;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const obj = value as Record<string, unknown>;
  let renamed = false;
  let children: Record<string, unknown> | undefined;
  for (const k of Object.keys(obj)) {
    if (unescapeKey(k) !== k) renamed = true;
    const v = unescapeOwned(obj[k]);
    if (v !== obj[k]) (children ??= {})[k] = v;
  }
  if (!renamed && !children) return obj;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) out[unescapeKey(k)] = children && k in children ? children[k] : obj[k];
  return out;
}

/**
 * Whether stored JSON text may hold an escaped key: it has the escapes' characters (a value may
 * too, which only costs the walk), literally as JSON.stringify writes them or as \u escapes.
 */
const ESCAPE_IN_TEXT = /[\uFF0E\uFF04]|\\u[fF][fF]0[eE4]/;

export function textMayHoldEscapedKeys(text: string): boolean {
  return ESCAPE_IN_TEXT.test(text);
}

/**
 * Whether applying `update` (as encoded by Codec.update) to a document without escaped keys may
 * leave one: a value it writes holds an escaped key, or an operator other than these moves keys.
 */
export function updateMayEscapeKeys(update: Record<string, unknown>): boolean {
  for (const op in update) {
    if (op !== '$set' && op !== '$unset' && op !== '$push' && op !== '$inc') return true;
    const fields = update[op];
    if (fields === null || typeof fields !== 'object') return true;
    for (const k in fields as Record<string, unknown>) {
      const v = (fields as Record<string, unknown>)[k];
      if (unescapeOwned(v) !== v) return true;
    }
  }
  return false;
}

export class Codec {
  private readonly opaque: Set<string>;

  constructor(readonly spec: CollectionSpec) {
    this.opaque = new Set(spec.opaque ?? []);
  }

  /** `shared`: the value may be returned as it is where no key changes (see escapeShared). */
  encodeValue(field: string, value: unknown, shared = false): unknown {
    const top = field.includes('.') ? field.split('.')[0] : field;
    if (this.opaque.has(top)) {
      if (field !== top)
        throw new Error(`field "${top}" of ${this.spec.name} is opaque and cannot be updated by path`);
      return value === undefined ? undefined : JSON.stringify(value);
    }
    return shared ? escapeShared(value) : mapKeys(value, escapeKey);
  }

  /**
   * The stored document of a record. `shared`: it may share objects with `doc`, for a caller that
   * stringifies it at once (the embedded store), where a copy would only be garbage.
   */
  encode(doc: Record<string, unknown>, shared = false): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k in doc) {
      if (!Object.prototype.hasOwnProperty.call(doc, k)) continue;
      const v = doc[k];
      if (v === undefined) continue;
      if (k === 'id') out._id = v;
      else out[escapeKey(k)] = this.encodeValue(k, v, shared);
    }
    return out;
  }

  /**
   * The record a stored document holds; it may share objects with `doc`, which the store hands over.
   * `escaped: false` from a store that knows no key of `doc` is escaped (textMayHoldEscapedKeys):
   * the walk through every value that looks for one (~2% of a webhook's CPU) is left out.
   */
  decode<T>(doc: Record<string, unknown> | null | undefined, escaped = true): T | null {
    if (!doc) return null;
    const out: Record<string, unknown> = {};
    for (const k in doc) {
      if (!Object.prototype.hasOwnProperty.call(doc, k)) continue;
      const v = doc[k];
      if (k === '_id') out.id = v;
      else if (this.opaque.has(k)) out[k] = typeof v === 'string' ? JSON.parse(v) : v;
      else if (!escaped) out[k] = v;
      else out[unescapeKey(k)] = unescapeOwned(v);
    }
    return out as T;
  }

  filter(filter: Filter | undefined): Filter {
    if (!filter) return {};
    const out: Filter = {};
    for (const [k, v] of Object.entries(filter)) {
      if (k === '$or' || k === '$and') out[k] = (v as Filter[]).map((f) => this.filter(f));
      else if (k === 'id') out._id = v;
      else {
        if (this.opaque.has(k.split('.')[0])) {
          throw new Error(`field "${k}" of ${this.spec.name} is opaque and cannot be queried`);
        }
        out[k] = v;
      }
    }
    return out;
  }

  sort(sort: SortSpec | undefined): SortSpec | undefined {
    if (!sort) return undefined;
    const out: SortSpec = {};
    for (const [k, v] of Object.entries(sort)) out[k === 'id' ? '_id' : k] = v;
    return out;
  }

  update(update: Update): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [op, fields] of Object.entries(update)) {
      if (!fields) continue;
      const mapped: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
        const key = k === 'id' ? '_id' : k;
        if (op === '$push' || op === '$addToSet') mapped[key] = this.encodeAppend(op, k, v);
        else mapped[key] = op === '$set' ? this.encodeValue(k, v) : v;
      }
      out[op] = mapped;
    }
    return out;
  }

  /**
   * A `$push`/`$addToSet` value. With `$each` its elements are encoded one by one and the
   * modifier kept (escaped whole, `{$each: [...]}` was pushed as a literal object). `$each` is the
   * only modifier accepted: nedb has no `$position` or `$sort`, and FerretDB ignores `$slice`
   * (the array kept growing), so the stores would differ.
   */
  private encodeAppend(op: '$push' | '$addToSet', field: string, value: unknown): unknown {
    if (
      value === null ||
      typeof value !== 'object' ||
      Array.isArray(value) ||
      !Object.prototype.hasOwnProperty.call(value, '$each')
    )
      return this.encodeValue(field, value);
    const { $each, ...modifiers } = value as Record<string, unknown>;
    const [other] = Object.keys(modifiers);
    if (other !== undefined)
      throw new Error(
        `${op} on "${field}" of ${this.spec.name}: ${other} is not supported (only $each; the stores do not agree on the others)`,
      );
    if (!Array.isArray($each))
      throw new Error(`${op} on "${field}" of ${this.spec.name}: $each must be an array`);
    return { $each: $each.map((e) => this.encodeValue(field, e)) };
  }

  projection(projection: Record<string, 0 | 1> | undefined): Record<string, 0 | 1> | undefined {
    if (!projection) return undefined;
    const out: Record<string, 0 | 1> = {};
    for (const [k, v] of Object.entries(projection)) out[k === 'id' ? '_id' : k] = v;
    return out;
  }
}
