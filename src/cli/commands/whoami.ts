import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

interface UserInfo {
  username: string;
  authentication: { method: string };
  rbac: { enabled: boolean; roles: string[]; is_admin: boolean };
}

export function registerWhoami(program: Command): void {
  withOutputOptions(
    withClientOptions(program.command('whoami').description('Who the CLI is authenticated as')),
  ).action(async (opts: OutputFlags & { url?: string }) => {
    const client = clientFrom(opts);
    const info = await client.get<UserInfo>('/api/v1/user');
    if (opts.json || opts.yaml) return print(info, opts);
    process.stdout.write(
      `username: ${info.username}\nroles: ${info.rbac.roles.join(', ') || '(none)'}${info.rbac.is_admin ? ' (admin)' : ''}\n` +
        `authenticated by: ${info.authentication.method}\napi: ${client.url}\n`,
    );
  });
}
