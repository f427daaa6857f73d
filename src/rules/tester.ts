/**
 * The rule tester (st2-rule-tester, st2-reference.md §4.5): does this rule match this trigger
 * instance, which criterion failed, and what would the action get? Offline: no store, no server.
 */
import { errorMessage } from '../errors.js';
import type { KvContext } from '../triggers/index.js';
import { triggerRefFor } from '../triggers/index.js';
import { matchRule } from './engine.js';
import { renderRuleParameters } from './render.js';
import type { CriteriaVerdict } from './criteria/index.js';

export interface RuleTestReport {
  rule: string;
  matches: boolean;
  /** Why the instance's trigger is not the rule's (then criteria are not evaluated). */
  trigger_mismatch?: string;
  criteria: CriteriaVerdict['results'];
  failed?: CriteriaVerdict['failed'];
  action?: string;
  parameters?: Record<string, unknown>;
  render_error?: string;
}

type Obj = Record<string, unknown>;

export function testRule(
  rule: Obj,
  triggerInstance: { trigger?: string; payload?: unknown },
  kv: KvContext = { st2kv: { system: {}, user: {} } },
  now?: Date,
): RuleTestReport {
  const pack = typeof rule.pack === 'string' && rule.pack ? rule.pack : 'default';
  const ref = `${pack}.${String(rule.name ?? '?')}`;
  const trigger = (rule.trigger ?? {}) as { type?: string; parameters?: Obj };
  const action = (rule.action ?? {}) as { ref?: string; parameters?: Obj };
  const report: RuleTestReport = { rule: ref, matches: false, criteria: [] };
  if (triggerInstance.trigger && trigger.type) {
    const bound = triggerRefFor(trigger.type, trigger.parameters);
    if (triggerInstance.trigger !== trigger.type && triggerInstance.trigger !== bound) {
      report.trigger_mismatch = `trigger instance is of "${triggerInstance.trigger}", the rule listens to "${trigger.type}"`;
      return report;
    }
  }
  const verdict = matchRule(rule, triggerInstance.payload ?? {}, kv, { evaluateAll: true, now });
  report.criteria = verdict.results;
  report.matches = verdict.matched;
  if (verdict.failed) report.failed = verdict.failed;
  if (!verdict.matched) return report;
  report.action = action.ref;
  try {
    report.parameters = renderRuleParameters(
      ref,
      action.parameters,
      { trigger: triggerInstance.payload ?? {}, st2kv: kv.st2kv },
      { decrypt: kv.decrypt },
    );
  } catch (err) {
    report.render_error = errorMessage(err);
  }
  return report;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null);
}

/** The tester's text output (st2's banner lines, then the criteria and the rendered parameters). */
export function formatRuleTestReport(report: RuleTestReport): string {
  const lines: string[] = [];
  lines.push(report.matches ? '=== RULE MATCHES ===' : '=== RULE DOES NOT MATCH ===');
  lines.push(`rule: ${report.rule}`);
  if (report.trigger_mismatch) lines.push(report.trigger_mismatch);
  for (const r of report.criteria) {
    lines.push(
      `  ${r.matched ? 'ok    ' : 'FAILED'} ${r.key}: ${r.operator} pattern=${show(r.pattern)} value=${show(r.value)}${r.error ? ` (${r.error})` : ''}`,
    );
  }
  if (report.failed) {
    lines.push(
      `failed criterion: key "${report.failed.key}", operator "${report.failed.operator}", pattern ${show(report.failed.pattern)}, payload value ${show(report.failed.value)}`,
    );
  }
  if (report.matches) {
    lines.push(`action: ${report.action ?? ''}`);
    if (report.render_error) lines.push(`parameters could not be rendered: ${report.render_error}`);
    else {
      lines.push('parameters:');
      for (const [k, v] of Object.entries(report.parameters ?? {})) lines.push(`  ${k}: ${show(v)}`);
    }
  }
  return lines.join('\n') + '\n';
}
