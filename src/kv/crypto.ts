import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SquallError } from '../errors.js';
import type { SecretBox } from '../executions/index.js';

/**
 * Secret values are encrypted at rest with AES-256-GCM. The ciphertext is one uppercase hex
 * string (like st2's): a 12-byte IV, the encrypted bytes and the 16-byte tag. GCM's tag makes
 * any change to the stored value fail to decrypt instead of yielding garbage.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key file, in the spirit of st2-generate-symmetric-crypto-key's JSON. */
interface KeyFile {
  aesKeyString: string;
  mode: 'GCM';
  size: 256;
}

export function generateKeyFile(file: string): Buffer {
  const key = randomBytes(32);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const body: KeyFile = { aesKeyString: key.toString('hex'), mode: 'GCM', size: 256 };
  // wx: never overwrite a key another process has just written.
  writeFileSync(file, JSON.stringify(body) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

export function readKeyFile(file: string): Buffer {
  let parsed: Partial<KeyFile>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<KeyFile>;
  } catch (err) {
    throw new SquallError(
      'KV_KEY_INVALID',
      `datastore key file ${file} is not readable JSON: ${(err as Error).message}`,
      {
        file,
      },
      500,
    );
  }
  const hex = parsed.aesKeyString;
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new SquallError(
      'KV_KEY_INVALID',
      `datastore key file ${file}: aesKeyString must be 64 hex digits (a 256-bit key)`,
      { file },
      500,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Reads the key file, creating it (mode 0600) when it does not exist yet. */
export function loadOrCreateKey(file: string): { key: Buffer; created: boolean } {
  if (!existsSync(file)) {
    try {
      return { key: generateKeyFile(file), created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new SquallError(
      'KV_KEY_INSECURE',
      `datastore key file ${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`,
      { file, mode: mode.toString(8) },
      500,
    );
  }
  return { key: readKeyFile(file), created: false };
}

export function encryptValue(key: Buffer, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('hex').toUpperCase();
}

export function decryptValue(key: Buffer, ciphertext: string, name?: string): string {
  const what = name ? `secret "${name}"` : 'value';
  if (typeof ciphertext !== 'string' || !/^[0-9a-fA-F]*$/.test(ciphertext) || ciphertext.length % 2) {
    throw new SquallError(
      'KV_DECRYPT_FAILED',
      `cannot decrypt ${what}: it is not a Squall ciphertext (hex)`,
      { name },
    );
  }
  const raw = Buffer.from(ciphertext, 'hex');
  if (raw.length < IV_BYTES + TAG_BYTES) {
    throw new SquallError('KV_DECRYPT_FAILED', `cannot decrypt ${what}: the ciphertext is too short`, {
      name,
    });
  }
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new SquallError(
      'KV_DECRYPT_FAILED',
      `cannot decrypt ${what}: the ciphertext was altered or was made with another key (kv.encryption_key_path)`,
      { name },
    );
  }
}

/** Seals execution secrets with this datastore key (the same AES-256-GCM as the datastore). */
export function secretBox(key: Buffer): SecretBox {
  return { seal: (p) => encryptValue(key, p), open: (c) => decryptValue(key, c) };
}
