import { Ajv } from 'ajv';
import { SquallError } from '../errors.js';
import { lazyValidator } from '../lazy-validator.js';
import type { InquirySchema } from './schema.js';

/**
 * Approval policy (Squall extension, peers.md §4.1), given as the `approval` parameter of an
 * inquirer action (core.ask, or a pack's own ask action with a default) or as `extra.approval`
 * of the chat alias that started the workflow; the parameter wins field by field.
 */
export interface ApprovalPolicy {
  /** The requester (the workflow's `user` / chat user) may not approve. */
  different_from_requester?: boolean;
  /** Approvals from this many distinct people are needed before the response is accepted. */
  quorum?: number;
  /** Minutes until the default outcome applies (earlier than the inquiry's ttl, if set). */
  deadline_minutes?: number;
  /** What the deadline (or the ttl) does: `timeout` (st2's), `deny` (failed) or `approve`. */
  on_deadline?: 'deny' | 'approve' | 'timeout';
  /** The boolean property whose `false` means "deny"; default: the schema's first boolean. */
  field?: string;
}

export const POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    different_from_requester: { type: 'boolean' },
    quorum: { type: 'integer', minimum: 1, maximum: 50 },
    deadline_minutes: { type: 'number', exclusiveMinimum: 0 },
    on_deadline: { enum: ['deny', 'approve', 'timeout'] },
    field: { type: 'string', minLength: 1 },
  },
} as const;

const validatePolicy = lazyValidator(() => new Ajv({ allErrors: true }).compile(POLICY_SCHEMA));

/** The effective policy (undefined = plain st2 semantics), validated; later sources win. */
export function resolvePolicy(...sources: unknown[]): ApprovalPolicy | undefined {
  let merged: Record<string, unknown> | undefined;
  for (const source of sources) {
    if (source === undefined || source === null) continue;
    if (!validatePolicy(source)) {
      const detail = (validatePolicy.errors ?? [])
        .map((e) => `${e.instancePath || 'approval'} ${e.message ?? ''}`.trim())
        .join('; ');
      throw new SquallError('INQUIRY_POLICY_INVALID', `The approval policy is invalid: ${detail}`, {
        policy: source,
      });
    }
    merged = { ...(merged ?? {}), ...(source as Record<string, unknown>) };
  }
  return merged as ApprovalPolicy | undefined;
}

/** The boolean property that approves (true) or denies (false), if the schema has one. */
export function approvalField(schema: InquirySchema, policy?: ApprovalPolicy): string | undefined {
  if (policy?.field) return policy.field;
  return Object.entries(schema.properties ?? {}).find(([, p]) => p?.type === 'boolean')?.[0];
}

/** Does this response approve or deny? Without a boolean field every response approves. */
export function decisionOf(
  schema: InquirySchema,
  response: Record<string, unknown>,
  policy?: ApprovalPolicy,
): 'approve' | 'deny' {
  const field = approvalField(schema, policy);
  return field !== undefined && response[field] === false ? 'deny' : 'approve';
}

/** Minutes until the inquiry ends by itself: the policy's deadline when earlier than the ttl. */
export function expiryMinutes(ttl: number, policy?: ApprovalPolicy): number {
  const d = policy?.deadline_minutes;
  return d !== undefined && d < ttl ? d : ttl;
}

/** The response an automatic approval gives: the approval field true (else an empty object). */
export function autoApproval(schema: InquirySchema, policy?: ApprovalPolicy): Record<string, unknown> {
  const field = approvalField(schema, policy);
  return field ? { [field]: true } : {};
}
