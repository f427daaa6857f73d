import { describe, expect, it } from 'vitest';
import { getSystemTriggerType, SYSTEM_TRIGGER_TYPES } from '../../../src/triggers/system-types.js';

describe('system trigger types (st2 §3.1, §3.2)', () => {
  it('lists every st2 system and internal trigger type in pack core', () => {
    expect(SYSTEM_TRIGGER_TYPES.map((t) => t.ref).sort()).toEqual(
      [
        'core.st2.webhook',
        'core.st2.IntervalTimer',
        'core.st2.DateTimer',
        'core.st2.CronTimer',
        'core.st2.generic.actiontrigger',
        'core.st2.generic.notifytrigger',
        'core.st2.action.file_written',
        'core.st2.generic.inquiry',
        'core.st2.sensor.process_spawn',
        'core.st2.sensor.process_exit',
        'core.st2.key_value_pair.create',
        'core.st2.key_value_pair.update',
        'core.st2.key_value_pair.value_change',
        'core.st2.key_value_pair.delete',
      ].sort(),
    );
    for (const t of SYSTEM_TRIGGER_TYPES) {
      expect(t.pack).toBe('core');
      expect(t.ref).toBe(`core.${t.name}`);
      expect(t.description.length).toBeGreaterThan(10);
    }
  });

  it('describes parameters and payloads with st2 field names', () => {
    const webhook = getSystemTriggerType('core.st2.webhook')!;
    expect(
      (webhook.parameters_schema.properties as Record<string, { required?: boolean }>).url.required,
    ).toBe(true);
    expect(Object.keys(webhook.payload_schema.properties as object)).toEqual(['headers', 'body']);
    const interval = getSystemTriggerType('core.st2.IntervalTimer')!;
    expect((interval.parameters_schema.properties as Record<string, { enum?: string[] }>).unit.enum).toEqual([
      'weeks',
      'days',
      'hours',
      'minutes',
      'seconds',
    ]);
    const notify = getSystemTriggerType('core.st2.generic.notifytrigger')!;
    expect(Object.keys(notify.payload_schema.properties as object)).toContain('route');
    expect(getSystemTriggerType('core.st2.generic.inquiry')!.payload_schema.properties).toHaveProperty(
      'route',
    );
    expect(getSystemTriggerType('core.nope')).toBeUndefined();
  });
});
