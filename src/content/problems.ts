import { relative, join } from 'node:path';

/**
 * One thing wrong (or worth knowing) about pack content. Loading never throws for content
 * problems: each is reported and the file it concerns is skipped (errors) or kept (warnings).
 */
export interface ContentProblem {
  severity: 'error' | 'warning';
  /** Stable UPPER_SNAKE code, e.g. UNKNOWN_RUNNER, YAML_SYNTAX, MISSING_FIELD. */
  code: string;
  /** Pack ref (or the directory name when the ref could not be determined). */
  pack: string;
  /** Path relative to the pack directory, e.g. `actions/a.yaml`. */
  file: string;
  /** 1-based position in `file`, when known. */
  line?: number;
  column?: number;
  /** Dotted path of the offending field, e.g. `parameters.cmd.type`. */
  field?: string;
  message: string;
  /** Absolute pack directory, used by formatProblem to print a path the user can open. */
  pack_dir?: string;
}

/** `packs/x/actions/a.yaml:3:5: runner_type: unknown runner "foo" (known: ...)` */
export function formatProblem(p: ContentProblem, cwd: string = process.cwd()): string {
  let file = p.pack_dir ? join(p.pack_dir, p.file) : p.file;
  if (p.pack_dir) {
    const rel = relative(cwd, file);
    if (!rel.startsWith('..')) file = rel;
  }
  let where = file;
  if (p.line !== undefined) where += `:${p.line}` + (p.column !== undefined ? `:${p.column}` : '');
  const sev = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${sev}${p.field ? `${p.field}: ` : ''}${p.message}`;
}

export function hasErrors(problems: readonly ContentProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
