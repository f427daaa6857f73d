import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { SquallError } from '../../errors.js';
import { ApiClient, withClientOptions, writeCliConfig } from '../client.js';

/** Reads a password: without echo on a terminal, else one line of stdin. */
export async function promptPassword(question: string): Promise<string> {
  const tty = Boolean(process.stdin.isTTY);
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: tty });
  try {
    process.stderr.write(question);
    muted = tty;
    const answer = await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () =>
        reject(
          new SquallError('PASSWORD_MISSING', 'no password given (stdin closed)', {
            hint: 'pass -p PASSWORD',
          }),
        ),
      );
    });
    if (tty) process.stderr.write('\n');
    return answer;
  } finally {
    rl.close();
  }
}

export function registerLogin(program: Command): void {
  withClientOptions(
    program
      .command('login [user]')
      .description('Log in (st2 login): get a token and cache it in ~/.config/squall/config.yaml')
      .option('-p, --password <password>', 'password (prompted for when absent)')
      .option('-l, --ttl <seconds>', 'token lifetime in seconds', (v) => Number.parseInt(v, 10))
      .option('--no-cache', 'print the token instead of caching it'),
  ).action(
    async (
      userArg: string | undefined,
      opts: { password?: string; ttl?: number; cache: boolean; url?: string },
    ) => {
      const client = new ApiClient({ url: opts.url });
      const user = userArg ?? process.env.SQUALL_USER ?? 'st2admin';
      const password = opts.password ?? (await promptPassword(`Password for ${user}: `));
      const token = await client.login(user, password, opts.ttl);
      if (!opts.cache) {
        process.stdout.write(`${token.token}\n`);
        return;
      }
      const file = writeCliConfig({
        url: client.url,
        token: token.token,
        user: token.user,
        expiry: token.expiry,
      });
      process.stdout.write(
        `Logged in as ${token.user} at ${client.url}; token cached in ${file} (expires ${token.expiry})\n`,
      );
    },
  );
}
