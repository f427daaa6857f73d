import { randomBytes, randomUUID } from 'node:crypto';

// uuid1 = time-based (RFC 4122 version 1) with a random node id, as st2's core.uuid offers.
function uuid1() {
  const gregorianOffset = 122192928000000000n; // 100 ns intervals between 1582-10-15 and 1970-01-01
  const t = BigInt(Date.now()) * 10000n + gregorianOffset;
  const timeLow = (t & 0xffffffffn).toString(16).padStart(8, '0');
  const timeMid = ((t >> 32n) & 0xffffn).toString(16).padStart(4, '0');
  const timeHi = (((t >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, '0');
  const rnd = randomBytes(8);
  const clockSeq = (((rnd[0] << 8) | rnd[1]) & 0x3fff) | 0x8000;
  rnd[2] |= 0x01; // multicast bit: a random node id, not a MAC address
  return `${timeLow}-${timeMid}-${timeHi}-${clockSeq.toString(16)}-${rnd.subarray(2, 8).toString('hex')}`;
}

export default async function uuid(params) {
  const type = params.uuid_type || 'uuid4';
  if (type === 'uuid4') return randomUUID();
  if (type === 'uuid1') return uuid1();
  throw new Error(`core.uuid: unknown uuid_type "${type}" (uuid1, uuid4)`);
}
