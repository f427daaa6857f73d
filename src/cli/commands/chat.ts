import type { Command } from 'commander';
import { ApiClient, clientFrom, withClientOptions } from '../client.js';

/**
 * `squall chat`: talk to the bot from a terminal through the shell chat adapter, against a
 * running Squall (--url) or an in-process one (--local). Lines from stdin, the bot's answers on
 * stdout, so it also runs scripts: `printf '!help\n' | squall chat`.
 */
export function registerChat(program: Command): void {
  withClientOptions(
    program.command('chat').description('Chat with the Squall bot from the terminal (shell chat adapter)'),
  )
    .option('--user <name>', 'chat as this user (admins only, when auth is on; default: you)')
    .option('--channel <name>', 'channel to join', 'general')
    .option('--local', 'start an in-process Squall (embedded store under --data-dir) instead of connecting')
    .option('-d, --data-dir <dir>', 'with --local: data directory (default ./.squall)')
    .option(
      '--wait <ms>',
      'when the input ends, exit after the bot has been quiet this long',
      (v) => Number.parseInt(v, 10),
      1500,
    )
    .action(
      async (opts: {
        url?: string;
        user?: string;
        channel: string;
        local?: boolean;
        dataDir?: string;
        wait: number;
      }) => {
        // The terminal transport lives in adapters/ (it is not domain code); load it on demand.
        const { runRepl } = await import('../../../adapters/shell/index.js');
        if (opts.local) {
          const { ShellAdapter } = await import('../../../adapters/shell/index.js');
          const { startLocalChat } = await import('../local-chat.js');
          const local = await startLocalChat(new ShellAdapter(), opts.dataDir);
          try {
            await runRepl({
              url: local.url,
              user: opts.user,
              channel: opts.channel,
              input: process.stdin,
              output: process.stdout,
              quietMs: opts.wait,
            });
          } finally {
            await local.stop();
          }
          return;
        }
        const client: ApiClient = clientFrom(opts);
        const headers: Record<string, string> = {};
        if (client.token) headers['X-Auth-Token'] = client.token;
        else if (client.apiKey) headers['St2-Api-Key'] = client.apiKey;
        await runRepl({
          url: client.url,
          headers,
          user: opts.user,
          channel: opts.channel,
          input: process.stdin,
          output: process.stdout,
          quietMs: opts.wait,
        });
      },
    );
}
