import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';
import { promptPassword } from './login.js';

type Opts = OutputFlags & { url?: string };

function roleList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `squall user` (admin): list, create, password, delete. */
export function registerUser(program: Command): void {
  const user = program.command('user').description('Users (admin)');

  withOutputOptions(withClientOptions(user.command('list').description('List users'))).action(
    async (opts: Opts) => {
      print(await clientFrom(opts).get('/api/v1/users'), opts, {
        columns: ['name', 'roles', 'enabled', 'created_at'],
      });
    },
  );

  withOutputOptions(
    withClientOptions(
      user
        .command('create <name>')
        .description('Create a user')
        .option('-p, --password <password>', 'password (prompted for when absent)')
        .option('-r, --roles <roles>', 'comma-separated roles, e.g. operator', roleList, [] as string[]),
    ),
  ).action(async (name: string, opts: Opts & { password?: string; roles: string[] }) => {
    const password = opts.password ?? (await promptPassword(`Password for ${name}: `));
    print(await clientFrom(opts).post('/api/v1/users', { name, password, roles: opts.roles }), opts);
  });

  withClientOptions(
    user
      .command('password <name>')
      .description(
        "Change a user's password (admins: anyone's; others: their own, with --current). Ends the user's logins",
      )
      .option('-p, --password <password>', 'the new password (prompted for when absent)')
      .option('--current <password>', 'your current password (needed to change your own without admin)'),
  ).action(async (name: string, opts: Opts & { password?: string; current?: string }) => {
    const password = opts.password ?? (await promptPassword(`New password for ${name}: `));
    await clientFrom(opts).put(`/api/v1/users/${encodeURIComponent(name)}`, {
      password,
      ...(opts.current !== undefined ? { current_password: opts.current } : {}),
    });
    process.stdout.write(`The password of "${name}" has been changed; their logins have ended.\n`);
  });

  withClientOptions(
    user.command('delete <name>').description('Delete a user with their tokens and API keys'),
  ).action(async (name: string, opts: Opts) => {
    await clientFrom(opts).delete(`/api/v1/users/${encodeURIComponent(name)}`);
    process.stdout.write(`User "${name}" has been deleted.\n`);
  });
}
