/**
 * Domain records as they are stored. Field names follow StackStorm's API models so that records
 * map onto st2's REST resources with little translation.
 */
import type { StoredRecord } from './types.js';

export type Json = unknown;

export interface PackRecord extends StoredRecord {
  ref: string;
  name: string;
  description?: string;
  version?: string;
  author?: string;
  email?: string;
  keywords?: string[];
  dependencies?: string[];
  python_versions?: string[];
  path: string;
  files?: string[];
  [field: string]: Json;
}

export interface ContentRecord extends StoredRecord {
  ref: string;
  uid: string;
  pack: string;
  name: string;
  description?: string;
  enabled?: boolean;
  metadata_file?: string;
  [field: string]: Json;
}

export type ActionRecord = ContentRecord;
export type RuleRecord = ContentRecord;
export type AliasRecord = ContentRecord;
export type PolicyRecord = ContentRecord;
export type SensorRecord = ContentRecord;
export type TriggerTypeRecord = ContentRecord;

export interface RunnerTypeRecord extends StoredRecord {
  name: string;
  enabled: boolean;
  [field: string]: Json;
}

export interface TriggerRecord extends StoredRecord {
  ref: string;
  name: string;
  pack: string;
  type: string;
  parameters: Record<string, Json>;
  ref_count: number;
  [field: string]: Json;
}

export interface TriggerInstanceRecord extends StoredRecord {
  trigger: string;
  payload: Json;
  occurrence_time: string;
  status: 'pending' | 'processing' | 'processed' | 'processing_failed';
  [field: string]: Json;
}

export interface RuleEnforcementRecord extends StoredRecord {
  trigger_instance_id: string;
  execution_id?: string;
  rule: { ref: string; id: string; uid: string };
  enforced_at: string;
  status: 'succeeded' | 'failed';
  failure_reason?: string;
  [field: string]: Json;
}

export interface ExecutionLogEntry {
  status: string;
  timestamp: string;
  reason?: string;
}

export interface ExecutionRecord extends StoredRecord {
  action: { ref: string; [field: string]: Json };
  runner: { name: string; [field: string]: Json };
  status: string;
  start_timestamp: string;
  end_timestamp?: string;
  elapsed_seconds?: number;
  parameters: Record<string, Json>;
  context: Record<string, Json>;
  result?: Json;
  result_size?: number;
  parent?: string;
  children?: string[];
  log: ExecutionLogEntry[];
  delay?: number;
  rule?: Json;
  trigger?: Json;
  trigger_type?: Json;
  trigger_instance?: Json;
  web_url?: string;
  requested_by?: string;
  [field: string]: Json;
}

export interface ExecutionOutputRecord extends StoredRecord {
  execution_id: string;
  action_ref: string;
  runner_ref: string;
  timestamp: string;
  output_type: string;
  data: string;
}

export interface WorkflowStateRecord extends StoredRecord {
  execution_id: string;
  kind: 'orquesta' | 'action-chain';
  status: string;
  state: Json;
  [field: string]: Json;
}

export interface InquiryRecord extends StoredRecord {
  status: string;
  [field: string]: Json;
}

export interface KeyValuePairRecord extends StoredRecord {
  /** scope:user:name — unique. */
  uid: string;
  name: string;
  scope: 'system' | 'user';
  user?: string;
  value: string;
  secret: boolean;
  encrypted?: boolean;
  expire_timestamp?: string;
  [field: string]: Json;
}

export interface UserRecord extends StoredRecord {
  name: string;
  password_hash?: string;
  roles: string[];
  enabled: boolean;
  [field: string]: Json;
}

export interface ApiKeyRecord extends StoredRecord {
  key_hash: string;
  user: string;
  enabled: boolean;
  created_at: string;
  metadata?: Record<string, Json>;
  [field: string]: Json;
}

export interface TokenRecord extends StoredRecord {
  token_hash: string;
  user: string;
  expiry: string;
  metadata?: Record<string, Json>;
  [field: string]: Json;
}

export interface TraceRecord extends StoredRecord {
  trace_tag: string;
  start_timestamp: string;
  /**
   * Members listed in the record: traces stored before members were read from their own records
   * (src/traces) have them; a trace stored since has none.
   */
  trigger_instances?: Array<{ object_id: string; ref?: string; updated_at: string; caused_by?: Json }>;
  rules?: Array<{ object_id: string; ref?: string; updated_at: string; caused_by?: Json }>;
  action_executions?: Array<{ object_id: string; ref?: string; updated_at: string; caused_by?: Json }>;
  [field: string]: Json;
}

export interface AuditRecord extends StoredRecord {
  timestamp: string;
  kind: string;
  actor?: string;
  [field: string]: Json;
}

/** Who a chat identity is: the adapter, its workspace (Slack team, Discord guild) and the user there. */
export interface ChatIdentityFields {
  platform: string;
  /** Slack team id, Discord guild id; '' when the adapter has no workspaces (the terminal). */
  workspace: string;
  chat_user: { id: string; name: string };
}

/** A chat identity linked to a Squall user (`!link`); id = `<platform>:<workspace>:<chat user id>`. */
export interface ChatLinkRecord extends StoredRecord, ChatIdentityFields {
  user: string;
  created_at: string;
}

/** A `!link` not yet confirmed; id = sha256 of its one-time token (the token itself is never stored). */
export interface ChatLinkRequestRecord extends StoredRecord, ChatIdentityFields {
  created_at: string;
  expires_at: string;
}

/** An ambiguous chat command's candidates, until one is pressed or it expires. */
export interface ChatChoiceRecord extends StoredRecord {
  adapter: string;
  /** The person's message as the adapter handed it over (IncomingMessage). */
  message: Json;
  /** The candidate aliases, in the order of the buttons. */
  refs: string[];
  created_at: string;
  expires_at: string;
}

export interface JobTestRecord extends StoredRecord {
  [field: string]: Json;
}

/** An execution that is not completed yet (id = the execution's id). */
export interface LiveExecutionRecord extends StoredRecord {
  status: string;
  /** When it entered `status`. */
  since: string;
  /**
   * The execution's action ref: a slot a concurrency policy frees looks up the delayed executions
   * of its action by it (absent on entries written before it was kept; recovery adds it).
   */
  action?: string;
}

/** A trigger instance not processed yet (id = the instance's id). */
export interface PendingInstanceRecord extends StoredRecord {
  since: string;
}

/** Which trace holds a component (id = `<kind>:<object id>`). */
export interface TraceComponentRecord extends StoredRecord {
  trace_id: string;
  start_timestamp: string;
}

export interface ClaimRecord extends StoredRecord {
  owner: string;
  claimed_at: string;
  /** Set when the claimed work is done (store/claims.ts doOnce): the claim is then collectable. */
  done_at?: string;
}
