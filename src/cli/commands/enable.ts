import type { Command } from 'commander';
import { withClientOptions } from '../client.js';
import { withOutputOptions, type OutputFlags } from '../output.js';

export type ClientFlags = OutputFlags & { url?: string };

/**
 * `<parent> enable <arg>` and `<parent> disable <arg>` (actions, rules, API keys): `set` sends the
 * change as the resource's API takes it and prints the answer.
 */
export function enableCommands(
  parent: Command,
  arg: string,
  what: string,
  set: (key: string, enabled: boolean, opts: ClientFlags) => Promise<void>,
): void {
  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const)
    withOutputOptions(
      withClientOptions(
        parent.command(`${name} <${arg}>`).description(`${name[0].toUpperCase()}${name.slice(1)} ${what}`),
      ),
    ).action((key: string, opts: ClientFlags) => set(key, enabled, opts));
}
