import { createHmac, timingSafeEqual } from 'node:crypto';
import { SquallError } from '../errors.js';

/**
 * Button payloads of inquiry prompts: `sqinq1.<inquiry id>.<expiry, base36 ms>.<HMAC>`. The HMAC
 * (SHA-256, key derived from the datastore key) covers the id and the expiry, so a press can only
 * answer the inquiry it was posted for, and not after the inquiry's deadline.
 */
export const PAYLOAD_PREFIX = 'sqinq1.';

/** The signing key: derived from the datastore key, so every process of a deployment shares it. */
export function deriveButtonKey(datastoreKey: Buffer): Buffer {
  return createHmac('sha256', datastoreKey).update('squall inquiry buttons v1').digest();
}

function mac(key: Buffer, id: string, exp: string): string {
  return createHmac('sha256', key).update(`${id}.${exp}`).digest('base64url').slice(0, 32);
}

export function signButtonPayload(key: Buffer, inquiryId: string, expiresAt: Date): string {
  const exp = expiresAt.getTime().toString(36);
  return `${PAYLOAD_PREFIX}${inquiryId}.${exp}.${mac(key, inquiryId, exp)}`;
}

export function isInquiryPayload(payload: string): boolean {
  return payload.startsWith(PAYLOAD_PREFIX);
}

/** The inquiry id of a genuine, unexpired payload; throws INQUIRY_BUTTON_FORGED / _EXPIRED otherwise. */
export function verifyButtonPayload(key: Buffer, payload: string, now = new Date()): string {
  const parts = payload.slice(PAYLOAD_PREFIX.length).split('.');
  if (!isInquiryPayload(payload) || parts.length !== 3) {
    throw new SquallError(
      'INQUIRY_BUTTON_FORGED',
      'the button payload is not an inquiry button of this Squall',
      {
        payload: payload.slice(0, 80),
      },
      403,
    );
  }
  const [id, exp, sig] = parts;
  const want = Buffer.from(mac(key, id, exp));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) {
    throw new SquallError(
      'INQUIRY_BUTTON_FORGED',
      `the signature of the button for inquiry ${id} does not match (forged, or signed with another key)`,
      { inquiry: id },
      403,
    );
  }
  const expiresAt = parseInt(exp, 36);
  if (!Number.isFinite(expiresAt) || now.getTime() > expiresAt) {
    throw new SquallError(
      'INQUIRY_BUTTON_EXPIRED',
      `the buttons of inquiry ${id} expired at ${new Date(expiresAt).toISOString()}`,
      { inquiry: id },
      410,
    );
  }
  return id;
}
