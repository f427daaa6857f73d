import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_PACKS_DIR, loadPacks } from '../../../src/content/index.js';
import { validateTriggerPayload } from '../../../src/triggers/index.js';
import { writePack } from './helpers.js';

// Shaped like Exchange packs st2 registers whole: a sensor whose payload_schema writes `items`
// as a type name (bitbucket), and two sensors declaring the same trigger types (newrelic's
// legacy and current sensors). st2's add_trigger_models checks neither.
const PUSH_SENSOR = `---
class_name: PushSensor
entry_point: push_sensor.py
trigger_types:
  - name: push
    payload_schema:
      type: object
      properties:
        branch: {type: string}
        files:
          type: array
          items: "string"
`;

const sensorDeclaring = (cls: string): string => `---
class_name: ${cls}
entry_point: ${cls.toLowerCase()}.py
trigger_types:
  - name: AlertTrigger
    payload_schema:
      type: object
      properties:
        severity: {type: string}
`;

describe("a pack's sensor trigger types that st2 registers although they are imperfect", async () => {
  const dir = await writePack(
    {
      'sensors/push.yaml': PUSH_SENSOR,
      'sensors/push_sensor.py': 'class PushSensor: pass\n',
      'sensors/current.yaml': sensorDeclaring('CurrentSensor'),
      'sensors/currentsensor.py': 'class CurrentSensor: pass\n',
      'sensors/legacy.yaml': sensorDeclaring('LegacySensor'),
      'sensors/legacysensor.py': 'class LegacySensor: pass\n',
    },
    'hooks',
  );
  const result = await loadPacks([resolve(BUNDLED_PACKS_DIR, 'core'), dir]);
  const pack = result.packs.find((p) => p.ref === 'hooks')!;
  const mine = result.problems.filter((p) => p.pack === 'hooks');

  it('registers every sensor and each trigger type once, with warnings and no errors', () => {
    expect(mine.filter((p) => p.severity === 'error')).toEqual([]);
    expect(pack.sensors.map((s) => s.ref).sort()).toEqual([
      'hooks.CurrentSensor',
      'hooks.LegacySensor',
      'hooks.PushSensor',
    ]);
    expect(pack.trigger_types.map((t) => t.ref).sort()).toEqual(['hooks.AlertTrigger', 'hooks.push']);
    expect(mine.map((p) => [p.severity, p.code, p.file])).toEqual(
      expect.arrayContaining([
        ['warning', 'BAD_SCHEMA', 'sensors/push.yaml'],
        ['warning', 'DUPLICATE_REF', 'sensors/legacy.yaml'],
      ]),
    );
    expect(mine.find((p) => p.code === 'DUPLICATE_REF')!.message).toMatch(
      /"hooks\.AlertTrigger" is also declared in sensors\/current\.yaml; it is registered once/,
    );
  });

  it('a payload dispatched to the trigger type with the broken schema is refused, naming why', () => {
    const push = pack.trigger_types.find((t) => t.ref === 'hooks.push')!;
    expect(() =>
      validateTriggerPayload({ id: 'tt-push', ...push }, { branch: 'main', files: ['a'] }),
    ).toThrow(
      /payload of trigger "hooks\.push" does not match its payload_schema: payload: cannot be checked, the schema is not a valid JSON schema/,
    );
  });
});
