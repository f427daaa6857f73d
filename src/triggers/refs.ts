/**
 * How rules bind to triggers (st2-reference.md §3): a rule on a trigger type without parameters
 * listens to the type's ref itself; a rule with `trigger.parameters` (webhook url, timer
 * schedule) binds a parameterised Trigger whose ref is `<type pack>.<uuid>`. The uuid is derived
 * from the type and the parameters, so every process computes the same ref for the same
 * parameters without asking the store, and rules with equal parameters share one Trigger.
 */
import { sha256Hex } from '../ids.js';
import { splitRef } from '../names.js';

export const WEBHOOK_TRIGGER_TYPE = 'core.st2.webhook';
export const ACTION_TRIGGER_TYPE = 'core.st2.generic.actiontrigger';

/** Squall's extension keys of a webhook's trigger parameters (not part of the url identity). */
export const WEBHOOK_EXTENSION_KEYS = ['hmac', 'wait'] as const;

/** Leading and trailing '/' are ignored in webhook urls (st2). */
export function normalizeWebhookUrl(url: unknown): string {
  return String(url ?? '').replace(/^\/+|\/+$/g, '');
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function hasParameters(parameters: unknown): parameters is Record<string, unknown> {
  return (
    parameters !== null &&
    typeof parameters === 'object' &&
    !Array.isArray(parameters) &&
    Object.keys(parameters).length > 0
  );
}

function identityParameters(type: string, parameters: Record<string, unknown>): Record<string, unknown> {
  if (type !== WEBHOOK_TRIGGER_TYPE) return parameters;
  return { ...parameters, url: normalizeWebhookUrl(parameters.url) };
}

/** The ref instances of this (type, parameters) carry and rules are indexed by. */
export function triggerRefFor(type: string, parameters: unknown): string {
  if (!hasParameters(parameters)) return type;
  const hex = sha256Hex(`${type}\n${canonicalJson(identityParameters(type, parameters))}`);
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  return `${packOfRef(type)}.${uuid}`;
}

export function packOfRef(ref: string): string {
  return splitRef(ref).pack;
}

/** The name part of a ref; a ref without a dot is its own name here (system trigger types). */
export function nameOfRef(ref: string): string {
  return ref.includes('.') ? splitRef(ref).name : ref;
}
