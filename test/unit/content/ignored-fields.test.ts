import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_PACKS_DIR, loadPacks } from '../../../src/content/index.js';
import { writePack } from './helpers.js';

// Shaped like the email Exchange pack: its sensors declare trigger types with `payload_info`, a
// field st2 drops when it registers trigger types from a pack (add_trigger_models keeps only name,
// pack, description, payload_schema, parameters_schema and tags).
const SENSOR = `---
class_name: "MailSensor"
entry_point: "mail_sensor.py"
description: "Emits a trigger per received message"
poll_interval_unit: seconds
trigger_types:
  -
    name: imap.message
    description: "A received message"
    payload_info:
      - from
      - subject
    payload_schema:
      type: object
      properties:
        subject: {type: string}
`;

const RULE = `---
name: on_mail
pack: mail
enabled: false
trigger:
  type: mail.imap.message
  parameters: {}
criteria:
  trigger.from:
    pattern: boss@example.com
    type: contains
action:
  ref: core.local
  parameters:
    cmd: echo got mail
`;

const TRIGGER_FILE = `---
name: bounce
description: a bounced message
payload_info: [reason]
`;

describe("fields st2 ignores in a pack's sensors and trigger types", async () => {
  const dir = await writePack(
    {
      'sensors/mail.yaml': SENSOR,
      'sensors/mail_sensor.py': 'class MailSensor: pass\n',
      'rules/on_mail.yaml': RULE,
      'triggers/bounce.yaml': TRIGGER_FILE,
    },
    'mail',
  );
  const result = await loadPacks([resolve(BUNDLED_PACKS_DIR, 'core'), dir]);
  const pack = result.packs.find((p) => p.ref === 'mail')!;

  it('registers the sensor, its trigger type and the rule that uses it, as st2 does', () => {
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(pack.sensors.map((s) => [s.ref, s.trigger_types])).toEqual([
      ['mail.MailSensor', ['mail.imap.message']],
    ]);
    const tt = pack.trigger_types.find((t) => t.ref === 'mail.imap.message')!;
    expect(tt).toMatchObject({
      description: 'A received message',
      payload_schema: { type: 'object', properties: { subject: { type: 'string' } } },
    });
    expect(tt).not.toHaveProperty('payload_info');
    expect(pack.rules.map((r) => [r.ref, r.trigger.type])).toEqual([['mail.on_mail', 'mail.imap.message']]);
  });

  it('a trigger type file under triggers/ with such a field registers too (same st2 path)', () => {
    expect(pack.trigger_types.map((t) => t.ref).sort()).toEqual(['mail.bounce', 'mail.imap.message']);
  });

  it('each ignored field is a warning naming the file, line and field', () => {
    expect(
      result.problems
        .filter((p) => p.pack === 'mail')
        .map((p) => [p.severity, p.code, p.file, p.line, p.field]),
    ).toEqual([
      ['warning', 'IGNORED_FIELD', 'triggers/bounce.yaml', 4, 'payload_info'],
      ['warning', 'IGNORED_FIELD', 'sensors/mail.yaml', 5, 'poll_interval_unit'],
      ['warning', 'IGNORED_FIELD', 'sensors/mail.yaml', 10, 'trigger_types[0].payload_info'],
    ]);
    expect(result.problems.find((p) => p.field === 'payload_info')!.message).toBe(
      'field "payload_info" is not one st2 reads; it is ignored, as in st2',
    );
  });
});
