import type { Command } from 'commander';
import { SquallError } from '../../errors.js';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

const COLUMNS = ['name', 'value', 'secret', 'scope', 'user', 'expire_timestamp'];
type Common = OutputFlags & { url?: string; scope?: string; user?: string };

function int(v: string, name: string): number {
  const n = Number.parseInt(v, 10);
  if (!Number.isInteger(n) || String(n) !== v.trim()) {
    throw new SquallError('CLI_ARGUMENT_INVALID', `${name}: expected a whole number, got "${v}"`, {
      value: v,
    });
  }
  return n;
}

/** `squall key` (st2 key): list, get, set, delete. */
export function registerKey(program: Command): void {
  const key = program.command('key').description('The key-value datastore (st2 key)');

  withOutputOptions(
    withClientOptions(
      key
        .command('list')
        .description(
          'List keys; secrets stay encrypted unless --decrypt (admins, or your own user-scope keys)',
        )
        .option('-p, --prefix <prefix>', 'only keys whose name starts with this')
        .option('-s, --scope <scope>', 'system, user or all (default all: system and your own)')
        .option('-u, --user <user>', "another user's user-scope keys (admins)")
        .option('-d, --decrypt', 'show secret values in clear')
        .option('-n, --last <n>', 'how many keys (-1 for all)', (v) => int(v, '--last')),
    ),
  ).action(async (opts: Common & { prefix?: string; decrypt?: boolean; last?: number }) => {
    const client = clientFrom(opts);
    const res = await client.request<Record<string, unknown>[]>('get', '/api/v1/keys', {
      query: {
        prefix: opts.prefix,
        scope: opts.scope,
        user: opts.user,
        decrypt: opts.decrypt ? true : undefined,
        limit: opts.last ?? 50,
      },
    });
    print(res.body, opts, { columns: COLUMNS });
    const total = Number(res.headers.get('x-total-count'));
    if (!opts.json && !opts.yaml && total > res.body.length) {
      process.stderr.write(`(${res.body.length} of ${total} keys; use -n -1 for all)\n`);
    }
  });

  withOutputOptions(
    withClientOptions(
      key
        .command('get <name>')
        .description('Show one key')
        .option('-d, --decrypt', 'show a secret value in clear')
        .option('-s, --scope <scope>', 'system (default) or user')
        .option('-u, --user <user>', "another user's user-scope key (admins)"),
    ),
  ).action(async (name: string, opts: Common & { decrypt?: boolean }) => {
    const item = await clientFrom(opts).get<Record<string, unknown>>(
      `/api/v1/keys/${encodeURIComponent(name)}`,
      {
        scope: opts.scope,
        user: opts.user,
        decrypt: opts.decrypt ? true : undefined,
      },
    );
    print(item, opts, { attributes: COLUMNS.filter((c) => item[c] !== undefined) });
  });

  withOutputOptions(
    withClientOptions(
      key
        .command('set <name> <value>')
        .description('Create or update a key')
        .option('-e, --encrypt', 'store the value encrypted (a secret)')
        .option('--encrypted', 'the value is already ciphertext of this datastore')
        .option('-l, --ttl <seconds>', 'delete the key after this many seconds', (v) => int(v, '--ttl'))
        .option('-s, --scope <scope>', 'system (default) or user')
        .option('-u, --user <user>', "set another user's user-scope key (admins)"),
    ),
  ).action(
    async (
      name: string,
      value: string,
      opts: Common & { encrypt?: boolean; encrypted?: boolean; ttl?: number },
    ) => {
      const item = await clientFrom(opts).put<Record<string, unknown>>(
        `/api/v1/keys/${encodeURIComponent(name)}`,
        {
          name,
          value,
          ...(opts.encrypt ? { secret: true } : {}),
          ...(opts.encrypted ? { encrypted: true } : {}),
          ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}),
          ...(opts.scope ? { scope: opts.scope } : {}),
          ...(opts.user ? { user: opts.user } : {}),
        },
      );
      print(item, opts, { attributes: COLUMNS.filter((c) => item[c] !== undefined) });
    },
  );

  withClientOptions(
    key
      .command('delete <name>')
      .description('Delete a key')
      .option('-s, --scope <scope>', 'system (default) or user')
      .option('-u, --user <user>', "another user's user-scope key (admins)"),
  ).action(async (name: string, opts: Common) => {
    await clientFrom(opts).delete(`/api/v1/keys/${encodeURIComponent(name)}`, {
      scope: opts.scope,
      user: opts.user,
    });
    process.stdout.write(`Resource with id "${name}" has been successfully deleted.\n`);
  });
}
