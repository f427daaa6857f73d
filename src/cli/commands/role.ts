import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Opts = OutputFlags & { url?: string };

/** `squall role` (st2 role, role-assignment): list, get, assign, unassign, assignments. */
export function registerRole(program: Command): void {
  const role = program.command('role').description('RBAC roles (st2 role)');

  withOutputOptions(
    withClientOptions(
      role.command('list').description('List roles').option('-s, --system', 'only system roles'),
    ),
  ).action(async (opts: Opts & { system?: boolean }) => {
    const roles = await clientFrom(opts).get('/api/v1/rbac/roles', {
      system: opts.system ? true : undefined,
    });
    print(roles, opts, { columns: ['name', 'system', 'enabled', 'description'] });
  });

  withOutputOptions(
    withClientOptions(role.command('get <name>').description('Show a role and its grants')),
  ).action(async (name: string, opts: Opts) => {
    print(await clientFrom(opts).get(`/api/v1/rbac/roles/${encodeURIComponent(name)}`), opts);
  });

  withOutputOptions(
    withClientOptions(
      role
        .command('assignments')
        .description('List role assignments')
        .option('-u, --user <user>', 'of this user')
        .option('-r, --role <role>', 'of this role'),
    ),
  ).action(async (opts: Opts & { user?: string; role?: string }) => {
    const rows = await clientFrom(opts).get('/api/v1/rbac/role_assignments', {
      user: opts.user,
      role: opts.role,
    });
    print(rows, opts, { columns: ['id', 'user', 'role', 'source'] });
  });

  withOutputOptions(
    withClientOptions(role.command('assign <user> <role>').description('Give a user a role (admin)')),
  ).action(async (user: string, name: string, opts: Opts) => {
    print(await clientFrom(opts).post('/api/v1/rbac/role_assignments', { user, role: name }), opts);
  });

  withClientOptions(
    role.command('unassign <user> <role>').description('Take a role from a user (admin)'),
  ).action(async (user: string, name: string, opts: Opts) => {
    await clientFrom(opts).delete(`/api/v1/rbac/role_assignments/${encodeURIComponent(`${user}:${name}`)}`);
    process.stdout.write(`Role "${name}" was taken from user "${user}".\n`);
  });
}
