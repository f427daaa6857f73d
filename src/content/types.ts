import type { ParameterSpec } from '../runners/index.js';
import type { ContentProblem } from './problems.js';

/** Fields every content record carries besides st2's own (st2-reference.md conventions). */
export interface RecordBase {
  name: string;
  pack: string;
  /** `pack.name` */
  ref: string;
  /** `<kind>:pack:name`, e.g. `action:core:local` */
  uid: string;
  description?: string;
  /** Path of the metadata file relative to the pack directory, e.g. `actions/local.yaml`. */
  metadata_file: string;
  /** Absolute pack directory. */
  pack_dir: string;
}

export interface PackRecord {
  ref: string;
  uid: string;
  name: string;
  description: string;
  version: string;
  author: string;
  email?: string;
  keywords: string[];
  contributors: string[];
  dependencies: string[];
  python_versions?: string[];
  stackstorm_version?: string;
  system: Record<string, unknown>;
  repo_url?: string;
  /** Absolute pack directory (st2 `PackDB.path`). */
  path: string;
}

export interface ActionRecord extends RecordBase {
  enabled: boolean;
  runner_type: string;
  entry_point: string;
  /** Absolute path of the entry point, when the runner uses one. */
  entry_point_path?: string;
  /** Parameters as the file declares them. */
  parameters: Record<string, ParameterSpec>;
  /** Runner parameters with the action's parameters merged over them (what callers may pass). */
  merged_parameters: Record<string, ParameterSpec>;
  output_schema?: Record<string, unknown>;
  tags: Array<{ name: string; value?: string }>;
  notify?: Record<string, unknown>;
}

export interface RuleRecord extends RecordBase {
  enabled: boolean;
  type: { ref: 'standard' | 'backstop'; parameters: Record<string, unknown> };
  trigger: { type: string; parameters: Record<string, unknown> };
  criteria: Record<string, { type: string; pattern?: unknown; condition?: string }>;
  action: { ref: string; parameters: Record<string, unknown> };
  context: Record<string, unknown>;
  tags: Array<{ name: string; value?: string }>;
}

export interface AliasFormatObject {
  display?: string;
  representation: string[];
  match_multiple?: boolean;
}

export interface AliasRecord extends RecordBase {
  enabled: boolean;
  action_ref: string;
  formats: Array<string | AliasFormatObject>;
  ack?: { enabled?: boolean; format?: string; append_url?: boolean; extra?: Record<string, unknown> };
  result?: { enabled?: boolean; format?: string; extra?: Record<string, unknown> };
  extra: Record<string, unknown>;
  immutable_parameters: Record<string, unknown>;
  /** Squall extension: the channels it answers in ("C0OPS" or "slack:C0OPS"); absent: all. */
  channels?: string[];
}

export interface PolicyRecord extends RecordBase {
  enabled: boolean;
  resource_ref: string;
  policy_type: 'action.concurrency' | 'action.concurrency.attr' | 'action.retry';
  parameters: Record<string, unknown>;
}

export interface TriggerTypeRecord extends RecordBase {
  parameters_schema: Record<string, unknown>;
  payload_schema: Record<string, unknown>;
  tags: Array<{ name: string; value?: string }>;
  /** `triggers` for triggers/*.yaml, or the ref of the sensor that declares it inline. */
  source: string;
}

export interface SensorRecord extends RecordBase {
  class_name: string;
  entry_point: string;
  entry_point_path: string;
  language: 'python' | 'javascript' | 'typescript';
  enabled: boolean;
  poll_interval?: number;
  /** Refs of the trigger types this sensor declares. */
  trigger_types: string[];
}

export interface PackConfig {
  /** Config values with schema defaults applied; dynamic values (`{{ st2kv... }}`) kept as text. */
  values: Record<string, unknown>;
  /** Dotted paths of fields the schema marks `secret` (mask them when showing the config). */
  secret_fields: string[];
  /** Dotted paths of values that are Jinja templates, rendered at use time. */
  dynamic_fields: string[];
  /** Absolute path of the config file, when one was read. */
  file?: string;
}

/** Content recognised but not loaded for running (removed or unsupported runner). */
export interface SkippedRecord {
  kind: 'action';
  ref: string;
  metadata_file: string;
  reason: string;
}

export interface LoadedPack {
  ref: string;
  dir: string;
  pack: PackRecord;
  /** The pack's config.schema.yaml, as written (st2 dialect), when present. */
  config_schema?: Record<string, unknown>;
  config?: PackConfig;
  actions: ActionRecord[];
  rules: RuleRecord[];
  aliases: AliasRecord[];
  policies: PolicyRecord[];
  sensors: SensorRecord[];
  trigger_types: TriggerTypeRecord[];
  skipped: SkippedRecord[];
  problems: ContentProblem[];
}

export interface LoadedPacks {
  packs: LoadedPack[];
  /** All problems of all packs (and of directories that could not be read as packs). */
  problems: ContentProblem[];
}

export interface LoadOptions {
  /** Directory holding `<pack>.yaml` config files (st2 `/opt/stackstorm/configs`). */
  configDir?: string;
  /** Refs defined elsewhere (already registered) that rules, aliases and policies may name. */
  known?: { actions?: Set<string>; triggerTypes?: Set<string> };
}
