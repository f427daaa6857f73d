import type { CollectionSpec } from './types.js';

/** Every collection, with the indexes its queries need and its free-form (opaque) fields. */
export const COLLECTIONS = {
  packs: { name: 'packs', indexes: [{ fields: { ref: 1 }, unique: true }] },
  actions: { name: 'actions', indexes: [{ fields: { ref: 1 }, unique: true }, { fields: { pack: 1 } }] },
  runnerTypes: { name: 'runner_types', indexes: [{ fields: { name: 1 }, unique: true }] },
  triggerTypes: {
    name: 'trigger_types',
    indexes: [{ fields: { ref: 1 }, unique: true }, { fields: { pack: 1 } }],
  },
  triggers: { name: 'triggers', indexes: [{ fields: { ref: 1 }, unique: true }, { fields: { type: 1 } }] },
  triggerInstances: {
    name: 'trigger_instances',
    indexes: [
      { fields: { occurrence_time: -1 } },
      { fields: { trigger: 1 } },
      { fields: { status: 1 } },
      // A trace's instances (src/traces reads a trace's members from their records).
      { fields: { 'trace_context.trace_id': 1 } },
    ],
    opaque: ['payload'],
    compressed: ['payload', 'trace_context'],
  },
  rules: {
    name: 'rules',
    indexes: [
      { fields: { ref: 1 }, unique: true },
      { fields: { 'trigger.type': 1 } },
      { fields: { pack: 1 } },
    ],
  },
  ruleEnforcements: {
    name: 'rule_enforcements',
    indexes: [
      { fields: { enforced_at: -1 } },
      { fields: { 'rule.ref': 1 } },
      { fields: { trigger_instance_id: 1 } },
      { fields: { execution_id: 1 } },
    ],
  },
  executions: {
    name: 'executions',
    indexes: [
      { fields: { start_timestamp: -1 } },
      { fields: { status: 1 } },
      // Retention: completed executions that ended before a cutoff.
      { fields: { end_timestamp: 1 } },
      { fields: { 'action.ref': 1 } },
      { fields: { parent: 1 } },
      { fields: { 'context.user': 1 } },
      // History's rule filter and the dashboard's link from a rule.
      { fields: { 'rule.ref': 1 } },
      // History's default list: top-level executions (no parent), newest first, and their count.
      { fields: { parent: 1, start_timestamp: -1 }, presence: true },
    ],
    opaque: ['result', 'parameters', 'liveaction'],
    // What an execution is given at its start and keeps (~1.1 KB of its ~1.7 KB of JSON; issue 19).
    compressed: [
      'action',
      'runner',
      'context',
      'rule',
      'trigger',
      'trigger_type',
      'trigger_instance',
      'web_url',
      'parameters',
      'secret_parameters',
      'requested_by',
      'attempt',
    ],
  },
  executionOutput: { name: 'execution_output', indexes: [{ fields: { execution_id: 1, timestamp: 1 } }] },
  workflows: {
    name: 'workflow_states',
    indexes: [{ fields: { execution_id: 1 }, unique: true }, { fields: { status: 1 } }],
    opaque: ['state'],
  },
  inquiries: { name: 'inquiries', indexes: [{ fields: { status: 1 } }], opaque: ['schema', 'response'] },
  aliases: {
    name: 'action_aliases',
    indexes: [{ fields: { ref: 1 }, unique: true }, { fields: { pack: 1 } }],
  },
  policies: {
    name: 'policies',
    indexes: [{ fields: { ref: 1 }, unique: true }, { fields: { resource_ref: 1 } }],
  },
  sensors: { name: 'sensor_types', indexes: [{ fields: { ref: 1 }, unique: true }] },
  kvPairs: {
    name: 'kv_pairs',
    indexes: [{ fields: { uid: 1 }, unique: true }, { fields: { expire_timestamp: 1 } }],
  },
  users: { name: 'users', indexes: [{ fields: { name: 1 }, unique: true }] },
  apiKeys: {
    name: 'api_keys',
    indexes: [{ fields: { key_hash: 1 }, unique: true }, { fields: { user: 1 } }],
  },
  tokens: {
    name: 'tokens',
    indexes: [{ fields: { token_hash: 1 }, unique: true }, { fields: { expiry: 1 } }],
  },
  traces: {
    name: 'traces',
    indexes: [
      { fields: { trace_tag: 1 } },
      { fields: { start_timestamp: -1 } },
      // `GET /traces?execution=` on traces stored with their member lists (src/traces).
      { fields: { 'action_executions.object_id': 1 }, multikey: true },
    ],
  },
  audit: {
    name: 'audit',
    indexes: [{ fields: { timestamp: -1 } }, { fields: { kind: 1 } }],
    opaque: ['details'],
  },
  /**
   * The executions not yet completed, with their status: what the queue count, recovery and the
   * sweep read, so their cost follows the live work, not the history (FerretDB/SQLite reads the
   * whole collection for any filter but a bare _id; `executions` grows without bound). By action
   * too: a freed concurrency slot looks for the delayed executions of its action only.
   */
  liveExecutions: { name: 'live_executions', indexes: [{ fields: { status: 1, action: 1 } }] },
  /** Trigger instances stored but not yet processed, so a sweep finds those whose job was lost. */
  pendingInstances: { name: 'pending_instances', indexes: [{ fields: { since: 1 } }] },
  /**
   * `action_executions:<execution id>` → the trace holding it (an execution's record does not say),
   * so finding it is one read by id, and a trace's executions one indexed query. Entries named
   * `trigger_instances:<id>` were written before (an instance's trace_context says). Indexed by the
   * trace's start time for retention.
   */
  traceComponents: {
    name: 'trace_components',
    indexes: [{ fields: { start_timestamp: 1 } }, { fields: { trace_id: 1 } }],
  },
  /** A chat identity bound to a Squall user (id = `<platform>:<workspace>:<chat user id>`). */
  chatLinks: {
    name: 'chat_links',
    indexes: [{ fields: { user: 1 } }, { fields: { platform: 1, 'chat_user.id': 1 } }],
  },
  /** Pending `!link` requests (id = sha256 of the one-time token), until confirmed or expired. */
  chatLinkRequests: { name: 'chat_link_requests', indexes: [{ fields: { expires_at: 1 } }] },
  /**
   * An ambiguous chat command waiting for its asker to press one of its aliases (id = the key in
   * the buttons' payload), so a press after a restart, or in another process, still runs it.
   */
  chatChoices: { name: 'chat_choices', indexes: [{ fields: { expires_at: 1 } }], opaque: ['message'] },
  /**
   * One record (`content`) whose `version` every content write changes, where no Redis bus tells the
   * processes of each other's writes: each checks it before serving cached content (src/service/content-cache.ts).
   */
  contentVersions: { name: 'content_versions', indexes: [] },
  workers: { name: 'workers', indexes: [{ fields: { heartbeat_at: 1 } }] },
  claims: { name: 'claims', indexes: [{ fields: { claimed_at: 1 } }] },
  testRecords: {
    name: 'test_records',
    indexes: [{ fields: { n: 1 } }, { fields: { key: 1 }, unique: true, sparse: true }],
    opaque: ['blob'],
    // The conformance tests run the embedded store's compressed rows through every operator.
    compressed: ['nested', 'blob'],
  },
} satisfies Record<string, CollectionSpec>;

export type CollectionKey = keyof typeof COLLECTIONS;
