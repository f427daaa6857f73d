/**
 * Squall extension: webhook signatures (st2 has none, st2-reference.md §10.3). A rule's webhook
 * trigger parameters may carry
 *
 *   hmac:
 *     secret: "{{ st2kv.system.github_secret | decrypt_kv }}"   # or a literal
 *     preset: github | slack | generic                         # default generic
 *     header: X-Signature-256          # generic only (default X-Signature-256)
 *     timestamp_header: X-Timestamp    # generic only, optional
 *     window_seconds: 300              # slack default 300; generic with timestamp_header
 *
 * github:  X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(secret, raw body)).
 * slack:   X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)) with
 *          ts = X-Slack-Request-Timestamp, refused outside the window (replays).
 * generic: <header> = "sha256=" + hex (or the bare hex) of HMAC-SHA256(secret, body), or of
 *          ts + "." + body when timestamp_header is set (then the window applies).
 * A webhook with hmac accepts requests without API credentials; a missing or bad signature is
 * answered 401 and nothing is dispatched.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type HmacPreset = 'github' | 'slack' | 'generic';

export interface HmacSettings {
  secret: string;
  preset?: HmacPreset;
  header?: string;
  timestamp_header?: string;
  window_seconds?: number;
}

/**
 * `replayKey`, for a signature over a timestamp (slack, generic with timestamp_header): the same
 * request sent again within the window verifies again, so the webhook treats the signature as a
 * delivery id (a replay gets the first answer and dispatches nothing).
 */
export type HmacVerdict =
  | { ok: true; replayKey?: string }
  /** `mismatch`: a signature came, well-formed in time, and differs (the secret may be wrong). */
  | { ok: false; reason: string; mismatch?: true };

export const HMAC_PRESETS: readonly HmacPreset[] = ['github', 'slack', 'generic'];

export const hmacSchema = {
  type: 'object',
  description: 'Squall extension: verify an HMAC-SHA256 signature instead of requiring API credentials.',
  required: ['secret'],
  properties: {
    secret: { type: 'string', minLength: 1, description: 'Shared secret; Jinja with st2kv allowed.' },
    preset: { enum: HMAC_PRESETS, description: 'github, slack or generic (default).' },
    header: { type: 'string', description: 'Signature header (generic preset).' },
    timestamp_header: {
      type: 'string',
      description: 'Timestamp header (generic preset), signed as "<ts>.<body>".',
    },
    window_seconds: { type: 'integer', minimum: 1, description: 'Largest accepted clock difference.' },
  },
  additionalProperties: false,
} as const;

function mismatch(name: string): HmacVerdict {
  return { ok: false, reason: `${name} does not match the body`, mismatch: true };
}

function hmacHex(secret: string, data: Buffer): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses a timestamp header: unix seconds, unix milliseconds or an ISO date. */
function parseTimestamp(raw: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(raw.trim())) {
    const n = Number(raw);
    return n > 1e12 ? n / 1000 : n;
  }
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

function checkWindow(ts: string | undefined, name: string, windowSeconds: number, now: Date): HmacVerdict {
  if (!ts) return { ok: false, reason: `missing ${name} header` };
  const seconds = parseTimestamp(ts);
  if (seconds === undefined) return { ok: false, reason: `${name} header "${ts}" is not a timestamp` };
  const skew = Math.abs(now.getTime() / 1000 - seconds);
  if (skew > windowSeconds)
    return {
      ok: false,
      reason: `${name} is ${Math.round(skew)} s away from now (window ${windowSeconds} s)`,
    };
  return { ok: true };
}

export function verifyHmac(
  settings: HmacSettings,
  headers: Record<string, string | string[] | undefined>,
  raw: Buffer,
  now: Date = new Date(),
): HmacVerdict {
  const preset = settings.preset ?? 'generic';
  if (!settings.secret) return { ok: false, reason: 'the webhook has an empty HMAC secret' };
  if (preset === 'github') {
    const name = 'X-Hub-Signature-256';
    const sig = header(headers, name);
    if (!sig) return { ok: false, reason: `missing ${name} header` };
    const want = `sha256=${hmacHex(settings.secret, raw)}`;
    return sameText(sig.trim(), want) ? { ok: true } : mismatch(name);
  }
  if (preset === 'slack') {
    const tsName = 'X-Slack-Request-Timestamp';
    const name = 'X-Slack-Signature';
    const ts = header(headers, tsName);
    const window = checkWindow(ts, tsName, settings.window_seconds ?? 300, now);
    if (!window.ok) return window;
    const sig = header(headers, name);
    if (!sig) return { ok: false, reason: `missing ${name} header` };
    const base = Buffer.concat([Buffer.from(`v0:${ts}:`, 'utf8'), raw]);
    const want = `v0=${hmacHex(settings.secret, base)}`;
    return sameText(sig.trim(), want) ? { ok: true, replayKey: want } : mismatch(name);
  }
  const name = settings.header ?? 'X-Signature-256';
  const sig = header(headers, name);
  if (!sig) return { ok: false, reason: `missing ${name} header` };
  let data = raw;
  if (settings.timestamp_header) {
    const ts = header(headers, settings.timestamp_header);
    const window = checkWindow(ts, settings.timestamp_header, settings.window_seconds ?? 300, now);
    if (!window.ok) return window;
    data = Buffer.concat([Buffer.from(`${ts}.`, 'utf8'), raw]);
  }
  const hex = hmacHex(settings.secret, data);
  const given = sig
    .trim()
    .replace(/^sha256=/i, '')
    .toLowerCase();
  if (!sameText(given, hex)) return mismatch(name);
  return settings.timestamp_header ? { ok: true, replayKey: hex } : { ok: true };
}
