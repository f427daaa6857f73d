import { SquallError } from '../errors.js';
import type { ActionDatastore } from './types.js';

type Scope = 'system' | 'user';

function scopeOf(value: unknown): Scope | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).replace(/^st2kv\./, '');
  if (s === 'system' || s === 'user') return s;
  throw new SquallError(
    'DATASTORE_SCOPE_INVALID',
    `datastore scope "${String(value)}" is not one of system, user`,
    { scope: value },
  );
}

function opt<T>(value: unknown, cast: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : cast(value);
}

function nameOf(args: Record<string, unknown>, method: string): string {
  if (typeof args.name !== 'string' || args.name === '') {
    throw new SquallError('DATASTORE_NAME_INVALID', `${method}: the key name must be a non-empty string`, {
      method,
      name: args.name,
    });
  }
  return args.name;
}

/** The datastore calls a child process may make (st2's action_service and sensor_service). */
export const DATASTORE_METHODS: ReadonlySet<string> = new Set([
  'get_value',
  'set_value',
  'delete_value',
  'list_values',
]);

/**
 * Serves a datastore call made by an action or sensor process (JSON lines on fd 3: json-channel.ts)
 * on `ds`, which already holds who asks and what they may decrypt. Arguments use st2's
 * service names (§2.3): local, scope, decrypt, ttl, encrypt, prefix.
 */
export async function serveDatastoreCall(
  ds: ActionDatastore,
  method: string,
  rawArgs: unknown,
): Promise<unknown> {
  const args = (rawArgs && typeof rawArgs === 'object' ? rawArgs : {}) as Record<string, unknown>;
  // st2's services default to local=True.
  const local = opt(args.local, Boolean) ?? true;
  const scope = scopeOf(args.scope);
  switch (method) {
    case 'get_value':
      return ds.getValue(nameOf(args, method), { local, scope, decrypt: opt(args.decrypt, Boolean) });
    case 'set_value': {
      const value = args.value;
      if (value === undefined || value === null) {
        throw new SquallError(
          'DATASTORE_VALUE_INVALID',
          `set_value: a value is required for key "${String(args.name)}"`,
          { name: args.name },
        );
      }
      await ds.setValue(nameOf(args, method), typeof value === 'string' ? value : JSON.stringify(value), {
        local,
        scope,
        ttl: opt(args.ttl, Number),
        encrypt: opt(args.encrypt, Boolean),
      });
      return true;
    }
    case 'delete_value':
      return ds.deleteValue(nameOf(args, method), { local, scope });
    case 'list_values':
      return ds.listValues({ local, scope, prefix: opt(args.prefix, String) });
    default:
      throw new SquallError('DATASTORE_METHOD_UNKNOWN', `unknown datastore method "${method}"`, { method });
  }
}
