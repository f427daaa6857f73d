import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => path.join(root, 'test/fixtures/rules', name);

function squall(...args: string[]) {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, SQUALL_API_URL: 'http://127.0.0.1:9' },
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

describe('squall rule test (offline, like st2-rule-tester)', () => {
  it('exits 0 and prints the banner and rendered parameters when the rule matches', () => {
    const r = squall(
      'rule',
      'test',
      '--rule',
      fixture('webhook_rule.yaml'),
      '--trigger-instance',
      fixture('trigger_instance_match.yaml'),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('=== RULE MATCHES ===');
    expect(r.stdout).toContain('action: core.local');
    expect(r.stdout).toContain(
      `cmd: "echo \\"{'foo': 'bar', 'name': 'test'}\\" >> /tmp/ineat.webhook_sample.out ; sync"`,
    );
  });

  it('exits 1 and names the failing criterion (key, operator, pattern, value) when it does not match', () => {
    const r = squall(
      'rule',
      'test',
      '--rule',
      fixture('webhook_rule.yaml'),
      '--trigger-instance',
      fixture('trigger_instance_nomatch.json'),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('=== RULE DOES NOT MATCH ===');
    expect(r.stdout).toContain(
      'failed criterion: key "trigger.body.name", operator "equals", pattern "test", payload value "other"',
    );
  });

  it('--json gives the report as data', () => {
    const r = squall(
      'rule',
      'test',
      '--json',
      '--rule',
      fixture('webhook_rule.yaml'),
      '--trigger-instance',
      fixture('trigger_instance_nomatch.json'),
    );
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.matches).toBe(false);
    expect(report.failed).toMatchObject({
      key: 'trigger.body.name',
      operator: 'equals',
      pattern: 'test',
      value: 'other',
    });
    expect(report.criteria).toHaveLength(2);
  });

  it('refuses a trigger instance of another trigger type', () => {
    const r = squall(
      'rule',
      'test',
      '--rule',
      fixture('webhook_rule.yaml'),
      '--trigger-instance',
      fixture('trigger_instance_other_type.yaml'),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('the rule listens to "core.st2.webhook"');
  });

  it('names the file when it cannot be read', () => {
    const r = squall(
      'rule',
      'test',
      '--rule',
      fixture('missing.yaml'),
      '--trigger-instance',
      fixture('trigger_instance_match.yaml'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing.yaml');
  });
});
