/** One entry of an alias's `formats` list (st2-reference.md §5.1). */
export type AliasFormat =
  | string
  | {
      display?: string;
      representation?: string | string[];
      match_multiple?: boolean;
    };

/** The fields of an st2 action alias YAML that the chat language needs (§5.1). */
export interface AliasLike {
  name: string;
  pack: string;
  /** `pack.name` when absent. */
  ref?: string;
  /** Defaults to true. */
  enabled?: boolean;
  description?: string;
  action_ref: string;
  formats: AliasFormat[];
  ack?: { enabled?: boolean; format?: string; append_url?: boolean; extra?: Record<string, unknown> };
  result?: { enabled?: boolean; format?: string; extra?: Record<string, unknown> };
  extra?: Record<string, unknown>;
  immutable_parameters?: Record<string, unknown>;
  /** Squall extension: the chat channels it answers in ("C0OPS" or "slack:C0OPS"); absent: all. */
  channels?: string[];
}

/** A format entry expanded into its help text and the patterns that match chat input. */
export interface NormalisedFormat {
  display: string;
  representation: string[];
  matchMultiple: boolean;
}

/** Values extracted from a command: strings, or null for a named group that took no part in the match. */
export type AliasParameters = Record<string, unknown>;

export function aliasRef(alias: AliasLike): string {
  return alias.ref ?? `${alias.pack}.${alias.name}`;
}

export function isEnabled(alias: AliasLike): boolean {
  return alias.enabled !== false;
}
