/**
 * YAML from users, loaded with a bound on what its aliases expand to.
 *
 * js-yaml shares an anchored node between its aliases, so a 400-byte document of ten anchors, each
 * a list of ten aliases of the previous one, loads at once and holds 10^9 values as soon as
 * anything walks it: printing it, storing it or validating it holds the process for minutes
 * ("billion laughs"). Templates (`from_yaml_string`), the workflow inspector and pack files are
 * written by users, so every load counts the values as a reader will see them, and stops early.
 */
import yaml from 'js-yaml';
import { SquallError } from './errors.js';

/** More values than any real document in packs, workflows or templates holds. */
export const MAX_YAML_VALUES = 1_000_000;

/** Whether `data`, with shared nodes counted every time they are reached, holds more than `limit` values. */
function exceeds(data: unknown, limit: number): boolean {
  let count = 0;
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const node = stack.pop();
    if (++count > limit) return true;
    if (Array.isArray(node)) for (const item of node) stack.push(item);
    else if (node !== null && typeof node === 'object' && !(node instanceof Date))
      for (const value of Object.values(node)) stack.push(value);
  }
  return false;
}

export interface LoadYamlOptions {
  /** Named in errors. */
  filename?: string;
  maxValues?: number;
}

/** js-yaml's load, refusing (YAML_TOO_LARGE, 400) a document whose aliases expand past the limit. */
export function loadYaml(text: string, options: LoadYamlOptions = {}): unknown {
  const data = yaml.load(text, options.filename ? { filename: options.filename } : {});
  // Without an alias nothing is shared: the document is as large as its text.
  if (!text.includes('*')) return data;
  const limit = options.maxValues ?? MAX_YAML_VALUES;
  if (exceeds(data, limit))
    throw new SquallError(
      'YAML_TOO_LARGE',
      `${options.filename ? `${options.filename}: ` : ''}the YAML's anchors and aliases expand to more than ${limit.toLocaleString('en-US')} values; write the values out, or fewer levels of aliases`,
      { ...(options.filename ? { file: options.filename } : {}), limit },
      400,
    );
  return data;
}
