/**
 * Secret parameters are stored sealed (encrypted) — StackStorm stores them in clear text
 * (st2 #4800) — and shown as ******** everywhere but inside the runner.
 */
export const MASK = '********';

/** Symmetric encryption of secret values; the datastore's key seals execution secrets too. */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

const SEALED = '$sealed';

export function isSealed(value: unknown): value is { [SEALED]: string } {
  return typeof value === 'object' && value !== null && SEALED in value;
}

export function sealParameters(
  values: Record<string, unknown>,
  secretNames: string[],
  box: SecretBox,
): Record<string, unknown> {
  const out = { ...values };
  for (const name of secretNames) {
    if (out[name] === undefined || out[name] === null) continue;
    out[name] = sealValue(out[name], box);
  }
  return out;
}

/** One value sealed whole (a list of revealed secrets, for instance). */
export function sealValue(value: unknown, box: SecretBox): { [SEALED]: string } {
  return { [SEALED]: box.seal(JSON.stringify(value)) };
}

export function openValue(sealed: unknown, box: SecretBox): unknown {
  return isSealed(sealed) ? JSON.parse(box.open(sealed[SEALED])) : sealed;
}

export function openParameters(values: Record<string, unknown>, box: SecretBox): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = openValue(v, box);
  return out;
}

export function maskParameters(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = isSealed(v) ? MASK : v;
  return out;
}

/** Replaces every occurrence of the given secret strings in text (output lines, errors). */
export function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join(MASK);
  return out;
}
