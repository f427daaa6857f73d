import { describe, expect, it } from 'vitest';
import {
  generatePassword,
  hashPassword,
  randomSecret,
  sha256,
  verifyPassword,
} from '../../../src/auth/index.js';

describe('password hashing (scrypt)', () => {
  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('correct horse');
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct hors', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('never stores the password itself and salts every hash', async () => {
    const a = await hashPassword('s3cret-value');
    const b = await hashPassword('s3cret-value');
    expect(a).not.toContain('s3cret-value');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
  });

  it('rejects unreadable or missing hashes instead of throwing', async () => {
    expect(await verifyPassword('x', undefined)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });

  it('refuses an empty password', async () => {
    await expect(hashPassword('')).rejects.toMatchObject({ code: 'PASSWORD_INVALID' });
  });
});

describe('credential helpers', () => {
  it('sha256 is the hex digest used to store tokens and API keys', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('random secrets are 64 hex digits and differ', () => {
    const a = randomSecret();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(randomSecret()).not.toBe(a);
  });

  it('generated passwords avoid look-alike characters', () => {
    const p = generatePassword(200);
    expect(p).toHaveLength(200);
    expect(p).not.toMatch(/[0O1lI]/);
  });
});
