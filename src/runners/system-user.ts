import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import type { RunnerContext } from './types.js';

/**
 * st2's `[system_user]`: the user and SSH key remote commands use when an action names none.
 * Squall's values: the configured ones, else the service's own user and its first ~/.ssh key.
 */
export function systemUser(ctx: RunnerContext): { user: string; ssh_key_file: string | undefined } {
  const candidates = [
    ctx.ssh?.privateKeyPath,
    ...['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(homedir(), '.ssh', f)),
  ];
  return {
    user: ctx.ssh?.username || userInfo().username,
    ssh_key_file: candidates.find((f): f is string => typeof f === 'string' && existsSync(f)),
  };
}
