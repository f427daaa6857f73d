import type { Command } from 'commander';
import { clientFrom, withClientOptions } from '../client.js';
import { print, withOutputOptions, type OutputFlags } from '../output.js';

type Common = OutputFlags & { url?: string };

/** `squall webhook` (st2 webhook): list, get. */
export function registerWebhook(program: Command): void {
  const webhook = program.command('webhook').description('Webhooks registered by rules (st2 webhook)');
  withOutputOptions(withClientOptions(webhook.command('list').description('List webhooks'))).action(
    async (opts: Common) => {
      print(await clientFrom(opts).get('/api/v1/webhooks'), opts, {
        columns: ['url', 'type', 'rules', 'parameters'],
      });
    },
  );
  withOutputOptions(
    withClientOptions(webhook.command('get <url>').description('Show the triggers of one webhook url')),
  ).action(async (url: string, opts: Common) => {
    const path = url
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map(encodeURIComponent)
      .join('/');
    print(await clientFrom(opts).get(`/api/v1/webhooks/${path}`), opts, {
      columns: ['url', 'ref', 'rules', 'parameters'],
    });
  });
}
