/**
 * Where secrets are inside values a JSON schema describes (an action's parameters, a pack's
 * config), written as paths: `a.b` is key b of the object at a, `a[]` every element of the list
 * at a (aws_boto3's `credentials.SecretAccessKey`, email's `smtp_accounts[].password`), `a{}` every
 * value of the object at a (foreman's `foreman{}.password`: connections under `patternProperties`). Executions
 * seal and mask parameters at these paths; pack configs mask and restore their values at them.
 */

/**
 * The secret paths of the properties `specs` (name → schema), as st2's get_secret_parameters
 * finds them: a property marked `secret`, `name.key` inside an object's `properties`, `name[]` in
 * each element of a list. A secret object or list is secret whole, so nothing below it is listed
 * unless `belowSecrets` (the pack loader's secret_fields have always listed those too).
 *
 * Beyond st2 (which masks neither): secrets under `patternProperties` or an `additionalProperties`
 * schema are `name{}…`, every value of that object (a key the pattern does not match is masked too:
 * masking more than st2 is safe, less is not), and a `$ref` to `#/properties/<name>` is followed
 * into `specs` (foreman's and algosec's connections), once per path so a cycle ends.
 */
export function secretPaths(specs: unknown, options: { belowSecrets?: boolean } = {}): string[] {
  const of = (spec: unknown, path: string, refs: ReadonlySet<string>): string[] => {
    if (!isObject(spec)) return [];
    const ref = typeof spec.$ref === 'string' ? /^#\/properties\/([^/]+)$/.exec(spec.$ref)?.[1] : undefined;
    if (ref !== undefined && isObject(specs) && !refs.has(ref))
      return of(specs[ref], path, new Set([...refs, ref]));
    const out: string[] = [];
    if (spec.secret === true) {
      out.push(path);
      if (!options.belowSecrets) return out;
    }
    if (isObject(spec.properties)) out.push(...inside(spec.properties, `${path}.`, refs));
    if (isObject(spec.items)) out.push(...of(spec.items, `${path}[]`, refs));
    const anyKey = [
      ...(isObject(spec.patternProperties) ? Object.values(spec.patternProperties) : []),
      ...(isObject(spec.additionalProperties) ? [spec.additionalProperties] : []),
    ];
    for (const valueSpec of anyKey)
      for (const found of of(valueSpec, `${path}{}`, refs)) if (!out.includes(found)) out.push(found);
    return out;
  };
  const inside = (properties: Record<string, unknown>, prefix: string, refs: ReadonlySet<string>): string[] =>
    Object.entries(properties).flatMap(([name, spec]) => of(spec, `${prefix}${name}`, refs));
  return isObject(specs) ? inside(specs, '', new Set()) : [];
}

/** `a.b[]{}` → ['a', 'b', '[]', '{}']. */
function pathSteps(path: string): string[] {
  return path.split('.').flatMap((token) => {
    const m = /^(.*?)((?:\[\]|\{\})*)$/.exec(token)!;
    return [m[1], ...(m[2].match(/\[\]|\{\}/g) ?? [])];
  });
}

/**
 * `node` with `change` applied to each value at `path` (several when it goes through a list);
 * the containers on the way are copied, never changed. `trail` is the keys and indexes that lead
 * to the value, to find the same value in another copy of `node`. A key the path names but the
 * object lacks, or a list step that meets no list, changes nothing.
 */
export function changeAt<T>(
  node: T,
  path: string,
  change: (value: unknown, trail: (string | number)[]) => unknown,
): T {
  const walk = (at: unknown, steps: string[], trail: (string | number)[]): unknown => {
    if (steps.length === 0) return change(at, trail);
    const [step, ...rest] = steps;
    if (step === '[]') return Array.isArray(at) ? at.map((el, i) => walk(el, rest, [...trail, i])) : at;
    if (step === '{}')
      return isObject(at)
        ? Object.fromEntries(Object.entries(at).map(([key, el]) => [key, walk(el, rest, [...trail, key])]))
        : at;
    if (!isObject(at) || !(step in at)) return at;
    return { ...at, [step]: walk(at[step], rest, [...trail, step]) };
  };
  return walk(node, pathSteps(path), []) as T;
}

/**
 * Whether `trail` (the keys and indexes that lead to a value, as a JSON pointer's tokens) is the
 * value at one of `paths` or inside it: a value below a secret is as secret as the secret.
 */
export function underSecretPath(paths: string[], trail: string[]): boolean {
  return paths.some((path) => {
    const steps = pathSteps(path);
    return (
      steps.length <= trail.length &&
      steps.every((step, i) =>
        step === '[]' ? /^\d+$/.test(trail[i]) : step === '{}' ? trail[i] !== undefined : step === trail[i],
      )
    );
  });
}

/**
 * The secret values `values` holds at `paths`, as strings to mask wherever they show (output,
 * error messages): a string as it is; a number, object or list as its JSON and, for an object or
 * list, each string inside it too (`credentials.key` printed alone). No value (undefined, null)
 * holds nothing.
 */
export function secretValuesAt(values: unknown, paths: string[]): string[] {
  const strings = (v: unknown): string[] =>
    typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];
  return paths.flatMap((path) =>
    valuesAt(values, path).flatMap((v) =>
      v === undefined || v === null ? [] : typeof v === 'string' ? [v] : [JSON.stringify(v), ...strings(v)],
    ),
  );
}

/** The values at `path` in `node`: several when it goes through a list. */
export function valuesAt(node: unknown, path: string): unknown[] {
  const found: unknown[] = [];
  changeAt(node, path, (value) => {
    found.push(value);
    return value;
  });
  return found;
}

/** The value `trail` (from `changeAt`) leads to in `node`; undefined where it leads nowhere. */
export function valueAtTrail(node: unknown, trail: (string | number)[]): unknown {
  let at = node;
  for (const key of trail)
    at = at && typeof at === 'object' ? (at as Record<string | number, unknown>)[key] : undefined;
  return at;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces every occurrence of the given secret strings in text (output lines, errors) with the mask. */
export function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('********');
  return out;
}
