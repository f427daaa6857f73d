import { SquallError } from '../errors.js';
import { changeAt, redactText } from '../secret-paths.js';

export { redactText };

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

/** The paths below a parameter, of a record's secret_parameters (top-level ones are sealed whole). */
const nestedPaths = (names: unknown): string[] =>
  Array.isArray(names)
    ? names.filter(
        (n): n is string =>
          typeof n === 'string' && (n.includes('.') || n.includes('[]') || n.includes('{}')),
      )
    : [];

/** `values` with whatever is at each secret path replaced by the mask. */
export function maskedAt(values: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  let out = values;
  for (const path of paths) out = changeAt(out, path, () => MASK);
  return out;
}

export function sealParameters(
  values: Record<string, unknown>,
  secretNames: string[],
  box: SecretBox,
): Record<string, unknown> {
  let out = { ...values };
  for (const name of secretNames) {
    out = changeAt(out, name, (v) => (v === undefined || v === null ? v : sealValue(v, box)));
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

/** `secretNames`: the execution's secret_parameters, which say where secrets inside values are sealed. */
export function openParameters(
  values: Record<string, unknown>,
  box: SecretBox,
  secretNames: unknown = [],
): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = openValue(v, box);
  for (const name of nestedPaths(secretNames)) out = changeAt(out, name, (v) => openValue(v, box));
  return out;
}

export function maskParameters(
  values: Record<string, unknown>,
  secretNames: unknown = [],
): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = isSealed(v) ? MASK : v;
  for (const name of nestedPaths(secretNames)) out = changeAt(out, name, (v) => (isSealed(v) ? MASK : v));
  return out;
}

/** `value` with every occurrence of the secret strings in its strings replaced, at any depth. */
export function redactDeep(value: unknown, secrets: string[]): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)]));
  }
  return value;
}

/** `err` with every value of `secrets` masked in its message and context. */
export function withoutSecrets(err: SquallError, secrets: string[]): SquallError {
  const shown = secrets.filter((s) => s.length >= 3);
  if (!shown.some((s) => err.message.includes(s) || JSON.stringify(err.context).includes(s))) return err;
  return new SquallError(
    err.code,
    redactText(err.message, shown),
    redactDeep(err.context, shown) as Record<string, unknown>,
    err.status,
  );
}
