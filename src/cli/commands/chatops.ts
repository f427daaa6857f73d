import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

const COLUMNS = ['id', 'user', 'platform', 'workspace', 'chat_user', 'created_at'];
type Opts = OutputFlags & { url?: string };

/**
 * `squall chatops links list|confirm|revoke`: chat identities linked to Squall users by `!link`
 * (yours; an admin's: everyone's).
 */
export function registerChatops(program: Command): void {
  const links = program
    .command('chatops')
    .description('ChatOps administration')
    .command('links')
    .description('Chat identities linked to Squall users (`!link` in chat)');

  withOutputOptions(
    withClientOptions(
      links
        .command('list')
        .description('List linked chat identities: yours (admins: everyone’s)')
        .option('-u, --user <user>', "another user's links (admins)"),
    ),
  ).action(async (opts: Opts & { user?: string }) => {
    print(await clientFrom(opts).get('/api/v1/chatops/links', { user: opts.user }), opts, {
      columns: COLUMNS,
    });
  });

  withOutputOptions(
    withClientOptions(
      links
        .command('confirm <token>')
        .description('Link the chat identity that said `!link` to you (the token from its link)'),
    ),
  ).action(async (token: string, opts: Opts) => {
    print(await clientFrom(opts).post('/api/v1/chatops/links', { token }), opts, { attributes: COLUMNS });
  });

  withClientOptions(
    links.command('revoke <id>').description('Unlink a chat identity (yours; admins: any)'),
  ).action(async (id: string, opts: Opts) => {
    await clientFrom(opts).delete(`/api/v1/chatops/links/${encodeURIComponent(id)}`);
    process.stdout.write(`Chat link "${id}" has been revoked.\n`);
  });
}
