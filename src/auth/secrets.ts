import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { SquallError } from '../errors.js';

/**
 * Password hashing with scrypt. The stored form carries its parameters so they can be raised
 * later without invalidating existing hashes: `scrypt$N$r$p$salt(b64)$hash(b64)`.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) {
    throw new SquallError('PASSWORD_INVALID', 'password: must be a non-empty string', {});
  }
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

// Stands in for the hash of a user who does not exist (or has none), so that a login answers
// in the time of one scrypt either way: a fast "no" would tell which user names exist.
let decoyHash: Promise<string> | undefined;
const decoy = (): Promise<string> => (decoyHash ??= hashPassword(randomBytes(18).toString('base64')));

/**
 * True when `password` matches `stored`; false for a wrong password, a missing or an unreadable
 * hash. Every "false" costs one scrypt, like a wrong password for a real user.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const parts = stored?.split('$') ?? [];
  const readable = parts.length === 6 && parts[0] === 'scrypt' && typeof password === 'string';
  if (!readable) {
    await scryptMatches(typeof password === 'string' ? password : '', (await decoy()).split('$'));
    return false;
  }
  return scryptMatches(password, parts);
}

async function scryptMatches(password: string, parts: string[]): Promise<boolean> {
  const [, n, r, p, saltB64, hashB64] = parts;
  const expected = Buffer.from(hashB64, 'base64');
  const key = await scryptAsync(password, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * Number(n) * Number(r) + 1024 * 1024,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Tokens and API keys are stored as their sha256: a leaked database does not leak credentials. */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A random credential: 32 bytes, hex (st2 tokens and API keys are hex strings too). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}

/** A password a human can type: 20 characters without look-alikes. */
export function generatePassword(length = 20): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}
