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

/**
 * Where an action's secrets are in its parameters, as st2's get_secret_parameters finds them: a
 * parameter's name, `name.key` inside an object's `properties`, `name[]` in each element of a list
 * (aws_boto3's `credentials.SecretAccessKey`). A secret object or list is secret whole.
 */
export function secretPaths(specs: Record<string, unknown>): string[] {
  const of = (spec: unknown, path: string): string[] => {
    if (!spec || typeof spec !== 'object') return [];
    const s = spec as Record<string, unknown>;
    if (s.secret === true) return [path];
    const out: string[] = [];
    if (s.properties && typeof s.properties === 'object')
      for (const [key, sub] of Object.entries(s.properties)) out.push(...of(sub, `${path}.${key}`));
    if (s.items && typeof s.items === 'object' && !Array.isArray(s.items))
      out.push(...of(s.items, `${path}[]`));
    return out;
  };
  return Object.entries(specs).flatMap(([name, spec]) => of(spec, name));
}

/** The paths below a parameter, of a record's secret_parameters (top-level ones are sealed whole). */
const nestedPaths = (names: unknown): string[] =>
  Array.isArray(names)
    ? names.filter((n): n is string => typeof n === 'string' && (n.includes('.') || n.includes('[]')))
    : [];

/** `a.b[]` → ['a', 'b', '[]']. */
function pathSteps(path: string): string[] {
  return path.split('.').flatMap((token) => {
    const m = /^(.*?)((?:\[\])*)$/.exec(token)!;
    return [m[1], ...Array.from({ length: m[2].length / 2 }, () => '[]')];
  });
}

/** `node` with `change` applied to the value(s) at `steps`, containers copied on the way, not changed. */
function changeAt(node: unknown, steps: string[], change: (value: unknown) => unknown): unknown {
  if (steps.length === 0) return change(node);
  const [step, ...rest] = steps;
  if (step === '[]') return Array.isArray(node) ? node.map((el) => changeAt(el, rest, change)) : node;
  if (!node || typeof node !== 'object' || Array.isArray(node) || isSealed(node)) return node;
  const obj = node as Record<string, unknown>;
  if (!(step in obj)) return node;
  return { ...obj, [step]: changeAt(obj[step], rest, change) };
}

/** The values at a secret path (`a.b`, `a[]`): several when it goes through a list. */
export function valuesAt(values: Record<string, unknown>, path: string): unknown[] {
  const found: unknown[] = [];
  changeAt(values, pathSteps(path), (v) => {
    found.push(v);
    return v;
  });
  return found;
}

/** `values` with whatever is at each secret path replaced by the mask. */
export function maskedAt(values: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  let out = values;
  for (const path of paths) out = changeAt(out, pathSteps(path), () => MASK) as Record<string, unknown>;
  return out;
}

export function sealParameters(
  values: Record<string, unknown>,
  secretNames: string[],
  box: SecretBox,
): Record<string, unknown> {
  let out = { ...values };
  for (const name of secretNames) {
    out = changeAt(out, pathSteps(name), (v) =>
      v === undefined || v === null ? v : sealValue(v, box),
    ) as Record<string, unknown>;
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
  for (const name of nestedPaths(secretNames))
    out = changeAt(out, pathSteps(name), (v) => openValue(v, box)) as Record<string, unknown>;
  return out;
}

export function maskParameters(
  values: Record<string, unknown>,
  secretNames: unknown = [],
): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = isSealed(v) ? MASK : v;
  for (const name of nestedPaths(secretNames))
    out = changeAt(out, pathSteps(name), (v) => (isSealed(v) ? MASK : v)) as Record<string, unknown>;
  return out;
}

/** Replaces every occurrence of the given secret strings in text (output lines, errors). */
export function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join(MASK);
  return out;
}
