import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../support/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixture = (name: string) => path.join(root, 'test/fixtures/rules', name);

/**
 * Awaited: five CLI runs in a row under spawnSync held the vitest fork for 11 s (load 4), and a
 * fork blocked for 60 s fails the run ("Timeout calling onTaskUpdate").
 */
const squall = (...args: string[]) => runCli(args, 'http://127.0.0.1:9');

describe('squall rule test (offline, like st2-rule-tester)', () => {
  it('exits 0 and prints the banner and rendered parameters when the rule matches', async () => {
    const r = await squall(
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

  it('exits 1 and names the failing criterion (key, operator, pattern, value) when it does not match', async () => {
    const r = await squall(
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

  it('--json gives the report as data', async () => {
    const r = await squall(
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

  it('refuses a trigger instance of another trigger type', async () => {
    const r = await squall(
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

  it('names the file when it cannot be read', async () => {
    const r = await squall(
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
