import { getAuthService } from '../auth/index.js';
import { PermissionError } from '../errors.js';
import type { Services } from '../service/index.js';
import type { KeyValueService, KvScope, KvSnapshot } from './service.js';

/** Whose datastore secrets a template, an action or a sensor may open. */
export interface SecretReader {
  user: string;
  /** RbacPolicy.canDecrypt for this user: the same decision as the REST API's `decrypt`. */
  may(key: { scope: KvScope; owner?: string }): boolean;
}

/** The decrypt rights of `user` (an execution's user, a rule's author, the system user). */
export async function secretReader(services: Services, user: string): Promise<SecretReader> {
  if (!services.config.auth.enable) return { user, may: () => true };
  const auth = getAuthService(services);
  const acting = await auth.actingUser(user);
  return { user, may: (key) => auth.policy.canDecrypt(acting, key) };
}

export function decryptRefused(user: string, what: string): PermissionError {
  return new PermissionError(
    `Decrypt option requires administrator access: user "${user}" may not decrypt ${what} (only admins decrypt system-scope secrets; users decrypt their own user-scope secrets)`,
    { user, key: what },
  );
}

/**
 * Jinja's `decrypt_kv` for templates rendered on behalf of `reader`. The filter only sees a
 * ciphertext, so the snapshot the template renders with tells which key it came from; a
 * ciphertext found in no key of the reader's snapshot counts as system scope. `onReveal` gets
 * every plaintext handed out, so the caller can treat it as a secret (in the form it needs).
 */
export function templateDecryptor(
  decrypt: (ciphertext: string) => string,
  reader: SecretReader,
  snapshot: KvSnapshot,
  onReveal?: (plaintext: string) => void,
): (ciphertext: string) => string {
  const keys = new Map<string, { scope: KvScope; name: string }>();
  for (const [name, value] of Object.entries(snapshot.system)) keys.set(value, { scope: 'system', name });
  for (const [name, value] of Object.entries(snapshot.user)) keys.set(value, { scope: 'user', name });
  return (ciphertext) => {
    const key = keys.get(ciphertext);
    const allowed =
      key?.scope === 'user'
        ? reader.may({ scope: 'user', owner: reader.user })
        : reader.may({ scope: 'system' });
    if (!allowed)
      throw decryptRefused(
        reader.user,
        key ? `st2kv.${key.scope}.${key.name}` : 'a value that is none of their user-scope keys',
      );
    const plaintext = decrypt(ciphertext);
    onReveal?.(plaintext);
    return plaintext;
  };
}

/**
 * st2 action_service's `get_value` for actions and sensors: a secret comes back in clear only
 * when `decrypt` is asked for and the reader may decrypt that key (else a 403-style error the
 * action sees); `onReveal` gets the plaintext so the output can be redacted.
 */
export async function datastoreGet(
  kv: KeyValueService,
  reader: () => Promise<SecretReader>,
  name: string,
  where: { scope: KvScope; user?: string; decrypt?: boolean },
  onReveal?: (plaintext: string) => void,
): Promise<string | null> {
  const pair = await kv.get(name, { scope: where.scope, user: where.user });
  if (!pair) return null;
  if (!where.decrypt || !pair.secret) return String(pair.value);
  const who = await reader();
  if (!who.may({ scope: where.scope, owner: where.user }))
    throw decryptRefused(who.user, `st2kv.${where.scope}.${name}`);
  const plaintext = kv.decrypt(pair.value);
  onReveal?.(plaintext);
  return plaintext;
}
