import crypto, { createHash, randomBytes } from 'node:crypto';

let counter = randomBytes(3).readUIntBE(0, 3);
const processUnique = randomBytes(5);

/**
 * A 24-hex-digit id laid out like a MongoDB ObjectId (seconds, process-unique, counter), because
 * st2 clients and users expect execution ids of that shape, and ids sort by creation time.
 */
export function newId(): string {
  const buf = Buffer.alloc(12);
  buf.writeUInt32BE(Math.floor(Date.now() / 1000), 0);
  processUnique.copy(buf, 4);
  counter = (counter + 1) % 0xffffff;
  buf.writeUIntBE(counter, 9, 3);
  return buf.toString('hex');
}

/**
 * The id a key always names, in newId's shape: a retry that derives its record's id from the same
 * key (a webhook's delivery id) finds what its first attempt stored instead of storing it again.
 */
export function idFor(key: string): string {
  return sha256Hex(key).slice(0, 24);
}

/**
 * idFor's id for a record made because of `origin` (a newId: the trigger instance a rule enforces),
 * laid out to sort right after it: origin's seconds and counter, then 5 bytes of the key's hash. Ids
 * made in a row land side by side in every index keyed by them (a page or two per commit) instead of
 * at random places (a page each), and show their creation time as newId's do. The same key and
 * origin give the same id. An origin not of newId's shape gives idFor(key).
 */
export function idAfter(key: string, origin: string): string {
  if (!isId(origin)) return idFor(key);
  return origin.slice(0, 8) + origin.slice(18, 24) + sha256Hex(key).slice(0, 10);
}

/**
 * idFor's id for a key that comes with a time every process that could make the record knows (a
 * timer's tick, the claim of a webhook's delivery id, the end of a failed execution): the time's
 * seconds, then 8 bytes of the key's hash. The same key and time give the same id, as idFor's; and
 * ids made in a row land at the end of every index keyed by them instead of on a random page each,
 * and show their creation time as newId's do. A time that is not one gives idFor(key).
 */
export function idAt(key: string, time: string | number): string {
  const ms = typeof time === 'number' ? time : Date.parse(time);
  if (!Number.isFinite(ms) || ms < 0 || ms >= 2 ** 32 * 1000) return idFor(key);
  return (
    Math.floor(ms / 1000)
      .toString(16)
      .padStart(8, '0') + sha256Hex(key).slice(0, 16)
  );
}

/**
 * One-shot crypto.hash (Node >= 20.12) where there is one: no Hash object per call, about half the
 * time of createHash's (two ids and a trigger ref per rule enforcement). The same digest.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** The SHA-256 of a string, in hex. */
export function sha256Hex(text: string): string {
  return oneShot ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

export function isId(value: string): boolean {
  return /^[0-9a-f]{24}$/.test(value);
}
