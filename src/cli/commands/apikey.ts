import type { Command } from 'commander';
import { SquallError } from '../../errors.js';
import { clientFrom, withClientOptions } from '../client.js';
import { enableCommands } from './enable.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

const COLUMNS = ['id', 'user', 'enabled', 'created_at', 'metadata'];
type Opts = OutputFlags & { url?: string };

/** `-m` accepts JSON (`{"team":"ops"}`) or k=v pairs separated by commas. */
export function parseMetadata(raw: string): Record<string, unknown> {
  const text = raw.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new SquallError('CLI_ARGUMENT_INVALID', `--metadata: invalid JSON: ${(err as Error).message}`, {
        raw,
      });
    }
  }
  const out: Record<string, unknown> = {};
  for (const pair of text.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) {
      throw new SquallError(
        'CLI_ARGUMENT_INVALID',
        `--metadata: "${pair}" is not key=value (or pass a JSON object)`,
        { raw },
      );
    }
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

/** `squall apikey` (st2 api-key): create, list, get, delete, enable, disable. */
export function registerApikey(program: Command): void {
  const apikey = program.command('apikey').alias('api-key').description('API keys (st2 api-key)');

  withOutputOptions(
    withClientOptions(
      apikey
        .command('create')
        .description('Create an API key; the key is shown once')
        .option('-u, --user <user>', 'owner (admins; default yourself)')
        .option('-m, --metadata <metadata>', 'JSON object or k=v,k2=v2')
        .option('-k, --only-key', 'print only the key'),
    ),
  ).action(async (opts: Opts & { user?: string; metadata?: string; onlyKey?: boolean }) => {
    const created = await clientFrom(opts).post<Record<string, unknown>>('/api/v1/apikeys', {
      ...(opts.user ? { user: opts.user } : {}),
      ...(opts.metadata ? { metadata: parseMetadata(opts.metadata) } : {}),
    });
    if (opts.onlyKey) {
      process.stdout.write(`${String(created.key)}\n`);
      return;
    }
    print(created, opts, { attributes: ['id', 'user', 'key', 'enabled', 'metadata'] });
    if (!opts.json && !opts.yaml) process.stderr.write('Save the key now: it cannot be shown again.\n');
  });

  withOutputOptions(
    withClientOptions(
      apikey
        .command('list')
        .description('List API keys')
        .option('-u, --user <user>', "another user's keys (admins)"),
    ),
  ).action(async (opts: Opts & { user?: string }) => {
    print(await clientFrom(opts).get('/api/v1/apikeys', { user: opts.user }), opts, { columns: COLUMNS });
  });

  withOutputOptions(withClientOptions(apikey.command('get <id>').description('Show one API key'))).action(
    async (id: string, opts: Opts) => {
      print(await clientFrom(opts).get(`/api/v1/apikeys/${encodeURIComponent(id)}`), opts);
    },
  );

  withClientOptions(apikey.command('delete <id>').description('Delete an API key')).action(
    async (id: string, opts: Opts) => {
      await clientFrom(opts).delete(`/api/v1/apikeys/${encodeURIComponent(id)}`);
      process.stdout.write(`Resource with id "${id}" has been successfully deleted.\n`);
    },
  );

  enableCommands(apikey, 'id', 'an API key', async (id, enabled, opts) => {
    print(await clientFrom(opts).put(`/api/v1/apikeys/${encodeURIComponent(id)}`, { enabled }), opts, {
      attributes: ['id', 'user', 'enabled'],
    });
  });
}
