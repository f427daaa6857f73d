/**
 * Response shapes of the API that the web UI reads as well (src/web/src/api.ts re-exports them).
 * Types only and no imports, so the web bundle can include this file and the server and the
 * pages cannot drift apart.
 */

/** GET /api/v1/traces/views/tree (src/rules/trace-tree.ts builds it). */

export type TraceNodeKind =
  | 'source'
  | 'trigger_instance'
  | 'rule_enforcement'
  | 'rule_not_matched'
  | 'execution'
  | 'chat_command'
  | 'chat_delivery';

export interface TraceNode {
  kind: TraceNodeKind;
  /** The record's id (for a source: its name; for a rule that did not match: the rule's ref). */
  id: string;
  title: string;
  detail?: string;
  status?: string;
  time?: string;
  /** Trigger type of an instance, rule ref of an enforcement, action ref of an execution. */
  ref?: string;
  children: TraceNode[];
}

export interface TraceTree {
  trace: { id: string; trace_tag: string; start_timestamp: string };
  roots: TraceNode[];
}
