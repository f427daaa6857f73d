import { ConflictError, SquallError } from '../errors.js';
import { newId } from '../ids.js';
import { nameProblem } from '../names.js';
import { escapeRegex } from '../regex.js';
import type { EventBus } from '../events/index.js';
import type { ActionDatastore } from '../runners/index.js';
import type { Filter, KeyValuePairRecord, Store } from '../store/index.js';
import { datastoreGet, type SecretReader } from './access.js';
import { decryptValue, encryptValue } from './crypto.js';

export type KvScope = 'system' | 'user';
export type KvScopeFilter = KvScope | 'all';

/** st2's KeyValuePairAPI shape. */
export interface KeyValuePair {
  id: string;
  uid: string;
  name: string;
  value: string;
  secret: boolean;
  encrypted: boolean;
  scope: 'st2kv.system' | 'st2kv.user';
  user?: string;
  ttl?: number;
  expire_timestamp?: string;
  created_at?: string;
  updated_at?: string;
}

export interface KvLookupTable {
  system: Record<string, { value: unknown; secret: boolean }>;
  user: Record<string, { value: unknown; secret: boolean }>;
  /** Whose decrypt rights apply to st2kv(..., decrypt=true); without one nothing is decrypted. */
  reader?: SecretReader;
}

export interface KvSnapshot {
  system: Record<string, string>;
  user: Record<string, string>;
}

export type KeyChange =
  | { kind: 'create'; item: KeyValuePair }
  | { kind: 'update'; item: KeyValuePair; previous: KeyValuePair }
  | { kind: 'delete'; item: KeyValuePair };

export interface KeyOptions {
  scope?: KvScope | string;
  user?: string;
}

export interface SetOptions extends KeyOptions {
  /** Encrypt the value at rest (`st2 key set -e`). */
  secret?: boolean;
  /** The value is already ciphertext made with this datastore's key (`--encrypted`). */
  encrypted?: boolean;
  /** Seconds until the key disappears. */
  ttl?: number;
}

export interface ListOptions {
  prefix?: string;
  scope?: KvScopeFilter | string;
  /** For scope user: whose keys; for scope all: include this user's user-scope keys. */
  user?: string;
  /** scope all: include every user's user-scope keys (admins). */
  allUsers?: boolean;
  decrypt?: boolean;
  limit?: number;
  offset?: number;
}

/** `system`, `st2kv.system`, `user`, `st2kv.user` (and `all` where allowed) → the short scope. */
export function normaliseScope(scope: string | undefined, allowAll: true): KvScopeFilter;
export function normaliseScope(scope: string | undefined, allowAll?: false): KvScope;
export function normaliseScope(scope: string | undefined, allowAll = false): KvScopeFilter {
  if (scope === undefined || scope === '') return allowAll ? 'all' : 'system';
  const s = scope.replace(/^st2kv\./, '');
  if (s === 'system' || s === 'user' || (allowAll && s === 'all')) return s as KvScopeFilter;
  throw new SquallError(
    'KV_SCOPE_INVALID',
    `scope: "${scope}" is not one of ${allowAll ? 'system, user, all' : 'system, user'} (st2kv.system, st2kv.user)`,
    { scope },
  );
}

export function kvUid(scope: KvScope, name: string, user?: string): string {
  return scope === 'system' ? `st2kv.system:${name}` : `st2kv.user:${user}:${name}`;
}

function toApi(r: KeyValuePairRecord): KeyValuePair {
  return {
    id: r.id,
    // The store keys pairs by `st2kv.system:name`; st2 shows the resource type in front, as RBAC
    // does here (rbac.ts uids.keyValuePair), and key_value_pair triggers' payloads carry it.
    uid: `key_value_pair:${r.uid}`,
    name: r.name,
    value: r.value,
    secret: r.secret,
    encrypted: r.secret,
    scope: r.scope === 'user' ? 'st2kv.user' : 'st2kv.system',
    ...(r.scope === 'user' ? { user: r.user } : {}),
    ...(typeof r.ttl === 'number' ? { ttl: r.ttl } : {}),
    ...(r.expire_timestamp ? { expire_timestamp: r.expire_timestamp } : {}),
    ...(typeof r.created_at === 'string' ? { created_at: r.created_at } : {}),
    ...(typeof r.updated_at === 'string' ? { updated_at: r.updated_at } : {}),
  };
}

/**
 * The key-value datastore (st2-reference.md §8). It trusts its caller: permission checks are the
 * API's job. Secrets are stored as AES-256-GCM ciphertext and only leave as plaintext when a
 * caller asks for `decrypt`.
 *
 * Every change publishes `st2.key_value_pair__create|update|delete` (payload: the pair, secrets as
 * ciphertext) and the internal trigger events `trigger.dispatch` with
 * `{trigger: 'core.st2.key_value_pair.create|update|value_change|delete', payload}` where payload
 * is st2's `{object}` or, for value_change, `{old_object, new_object}`.
 */
export class KeyValueService {
  private readonly listeners = new Set<(change: KeyChange) => void>();

  constructor(
    private readonly store: Store,
    private readonly key: Buffer,
    private readonly bus?: EventBus,
  ) {}

  encrypt(plaintext: string): string {
    return encryptValue(this.key, plaintext);
  }

  /** Decrypts a datastore ciphertext (for Jinja's `decrypt_kv`); throws on tampering. */
  decrypt(ciphertext: string): string {
    return decryptValue(this.key, ciphertext);
  }

  /** In-process listener for every change; returns an unsubscribe. */
  onKeyChange(handler: (change: KeyChange) => void): () => void {
    this.listeners.add(handler);
    return () => this.listeners.delete(handler);
  }

  private liveFilter(now = new Date().toISOString()): Filter {
    return { $or: [{ expire_timestamp: { $exists: false } }, { expire_timestamp: { $gt: now } }] };
  }

  private where(name: string, opts: KeyOptions): { scope: KvScope; user?: string; uid: string } {
    if (typeof name !== 'string' || name === '') {
      throw new SquallError('KV_NAME_INVALID', 'key name: must be a non-empty string', { name });
    }
    const scope = normaliseScope(opts.scope);
    if (scope === 'user' && !opts.user) {
      throw new SquallError(
        'KV_USER_REQUIRED',
        `key "${name}": scope user needs the user the key belongs to`,
        {
          name,
        },
      );
    }
    const user = scope === 'user' ? opts.user : undefined;
    return { scope, user, uid: kvUid(scope, name, user) };
  }

  private reveal(item: KeyValuePair, decrypt: boolean): KeyValuePair {
    if (!decrypt || !item.secret) return item;
    return { ...item, value: decryptValue(this.key, item.value, item.name), encrypted: false };
  }

  async get(name: string, opts: KeyOptions & { decrypt?: boolean } = {}): Promise<KeyValuePair | null> {
    const { uid } = this.where(name, opts);
    const record = await this.store.kvPairs.findOne({ uid, ...this.liveFilter() });
    return record ? this.reveal(toApi(record), opts.decrypt ?? false) : null;
  }

  async set(name: string, value: string, opts: SetOptions = {}): Promise<KeyValuePair> {
    // Checked on write only: a key stored before the rule existed can still be read and deleted.
    const problem = nameProblem(name, 'key');
    if (problem) {
      const shown = JSON.stringify(String(name).slice(0, 60));
      throw new SquallError('KV_NAME_INVALID', `key name ${shown}: ${problem}`, { field: 'name' });
    }
    const { scope, user, uid } = this.where(name, opts);
    if (typeof value !== 'string') {
      throw new SquallError(
        'KV_VALUE_INVALID',
        `key "${name}": value must be a string (store JSON for structures)`,
        {
          name,
          type: typeof value,
        },
      );
    }
    if (opts.ttl !== undefined && (!Number.isInteger(opts.ttl) || opts.ttl <= 0)) {
      throw new SquallError(
        'KV_TTL_INVALID',
        `key "${name}": ttl must be a positive whole number of seconds`,
        {
          name,
          ttl: opts.ttl,
        },
      );
    }
    const secret = Boolean(opts.secret || opts.encrypted);
    let stored = value;
    if (opts.encrypted)
      decryptValue(this.key, value, name); // proves it is our ciphertext
    else if (secret) stored = encryptValue(this.key, value);

    const now = new Date();
    for (let attempt = 0; ; attempt++) {
      const previous = await this.store.kvPairs.findOne({ uid });
      const live = previous && (!previous.expire_timestamp || previous.expire_timestamp > now.toISOString());
      const record: KeyValuePairRecord = {
        id: previous?.id ?? newId(),
        uid,
        name,
        scope,
        ...(user ? { user } : {}),
        value: stored,
        secret,
        encrypted: secret,
        ...(opts.ttl
          ? { ttl: opts.ttl, expire_timestamp: new Date(now.getTime() + opts.ttl * 1000).toISOString() }
          : {}),
        created_at: live && typeof previous.created_at === 'string' ? previous.created_at : now.toISOString(),
        updated_at: now.toISOString(),
      };
      try {
        if (previous) await this.store.kvPairs.replace(record);
        else await this.store.kvPairs.insert(record);
      } catch (err) {
        // Another writer created it between our read and insert: update instead.
        if (err instanceof ConflictError && attempt < 3) continue;
        throw err;
      }
      const item = toApi(record);
      if (live) this.emit({ kind: 'update', item, previous: toApi(previous) });
      else this.emit({ kind: 'create', item });
      return item;
    }
  }

  async delete(name: string, opts: KeyOptions = {}): Promise<boolean> {
    const { uid } = this.where(name, opts);
    const record = await this.store.kvPairs.findOne({ uid, ...this.liveFilter() });
    if (!record) return false;
    if (!(await this.store.kvPairs.deleteOne({ id: record.id }))) return false;
    this.emit({ kind: 'delete', item: toApi(record) });
    return true;
  }

  async list(opts: ListOptions = {}): Promise<{ items: KeyValuePair[]; total: number }> {
    const scope = normaliseScope(opts.scope, true);
    const clauses: Filter[] = [this.liveFilter()];
    if (opts.prefix) clauses.push({ name: { $regex: new RegExp('^' + escapeRegex(opts.prefix)) } });
    if (scope === 'system') clauses.push({ scope: 'system' });
    else if (scope === 'user') {
      if (!opts.user) {
        throw new SquallError('KV_USER_REQUIRED', 'listing scope user needs the user whose keys to list', {});
      }
      clauses.push({ scope: 'user', user: opts.user });
    } else if (!opts.allUsers) {
      clauses.push({
        $or: [{ scope: 'system' }, ...(opts.user ? [{ scope: 'user', user: opts.user }] : [])],
      });
    }
    const filter: Filter = { $and: clauses };
    const total = await this.store.kvPairs.count(filter);
    const rows = await this.store.kvPairs.find(filter, {
      sort: { scope: 1, user: 1, name: 1 },
      skip: opts.offset ?? 0,
      ...(opts.limit !== undefined && opts.limit >= 0 ? { limit: opts.limit } : {}),
    });
    return { items: rows.map((r) => this.reveal(toApi(r), opts.decrypt ?? false)), total };
  }

  /**
   * Every live key as name → value (secrets as ciphertext), for building Jinja's `st2kv`
   * context once and then rendering synchronously.
   */
  async snapshot(user?: string): Promise<KvSnapshot> {
    const rows = await this.store.kvPairs.find({
      $and: [this.liveFilter(), { $or: [{ scope: 'system' }, ...(user ? [{ scope: 'user', user }] : [])] }],
    });
    const out: KvSnapshot = { system: {}, user: {} };
    for (const r of rows) (r.scope === 'user' ? out.user : out.system)[r.name] = r.value;
    return out;
  }

  /**
   * The keys a workflow's st2kv() may read for this user, with whether each is stored encrypted
   * (the values of secret keys stay encrypted): `system` and `user` by key name.
   */
  async lookupTable(user?: string): Promise<KvLookupTable> {
    const rows = await this.store.kvPairs.find({
      $and: [this.liveFilter(), { $or: [{ scope: 'system' }, ...(user ? [{ scope: 'user', user }] : [])] }],
    });
    const out: KvLookupTable = { system: {}, user: {} };
    for (const r of rows)
      (r.scope === 'user' ? out.user : out.system)[r.name] = { value: r.value, secret: Boolean(r.secret) };
    return out;
  }

  /** Deletes expired keys, publishing a delete for each; returns how many went. */
  async purgeExpired(): Promise<number> {
    const expired = await this.store.kvPairs.find({ expire_timestamp: { $lte: new Date().toISOString() } });
    let n = 0;
    for (const r of expired) {
      if (await this.store.kvPairs.deleteOne({ id: r.id, expire_timestamp: r.expire_timestamp })) {
        n++;
        this.emit({ kind: 'delete', item: toApi(r) });
      }
    }
    return n;
  }

  /**
   * The datastore a sensor sees (st2 sensor_service): `reader` owns scope-user keys and decides
   * what `decrypt` may open; `local` names are prefixed with `localPrefix:` (st2 uses
   * `<pack>.<SensorClass>`).
   */
  actionDatastore(reader: SecretReader, localPrefix?: string): ActionDatastore {
    const user = reader.user;
    const full = (name: string, local?: boolean) => (local && localPrefix ? `${localPrefix}:${name}` : name);
    return {
      getValue: (name, o = {}) =>
        datastoreGet(this, async () => reader, full(name, o.local), {
          scope: o.scope ?? 'system',
          user,
          decrypt: o.decrypt,
        }),
      setValue: async (name, value, o = {}) => {
        await this.set(full(name, o.local), value, {
          scope: o.scope ?? 'system',
          user,
          ttl: o.ttl,
          secret: o.encrypt,
        });
      },
      deleteValue: (name, o = {}) => this.delete(full(name, o.local), { scope: o.scope ?? 'system', user }),
      listValues: async (o = {}) => {
        const prefix = o.local ? full(o.prefix ?? '', true) : o.prefix;
        const scope = o.scope ?? 'system';
        const { items } = await this.list({ scope, user, prefix });
        return items.map((i) => ({ name: i.name, value: i.value }));
      },
    };
  }

  private valueChanged(before: KeyValuePair, after: KeyValuePair): boolean {
    if (!before.secret && !after.secret) return before.value !== after.value;
    try {
      const a = before.secret ? this.decrypt(before.value) : before.value;
      const b = after.secret ? this.decrypt(after.value) : after.value;
      return a !== b;
    } catch {
      return true;
    }
  }

  private emit(change: KeyChange): void {
    const op = change.kind;
    if (this.bus) {
      this.bus.publish(`st2.key_value_pair__${op}`, change.item);
      this.bus.publish('trigger.dispatch', {
        trigger: `core.st2.key_value_pair.${op}`,
        payload: { object: change.item },
      });
      if (change.kind === 'update' && this.valueChanged(change.previous, change.item)) {
        this.bus.publish('trigger.dispatch', {
          trigger: 'core.st2.key_value_pair.value_change',
          payload: { old_object: change.previous, new_object: change.item },
        });
      }
    }
    for (const listener of this.listeners) listener(change);
  }
}
