import { describe, expect, it } from 'vitest';
import { SerialPerKey } from '../../../src/serial.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SerialPerKey', () => {
  it('runs the tasks of one key one after another, in order, and other keys alongside', async () => {
    const serial = new SerialPerKey();
    const log: string[] = [];
    const task = (name: string) => async () => {
      log.push(`${name}+`);
      await tick();
      log.push(`${name}-`);
      return name;
    };
    const results = await Promise.all([
      serial.run('a', task('a1')),
      serial.run('a', task('a2')),
      serial.run('b', task('b1')),
    ]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('a1-')).toBeLessThan(log.indexOf('a2+'));
    // b did not wait for a.
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  });

  it('gives a failure to its own caller and still runs what was queued after it', async () => {
    const serial = new SerialPerKey();
    const failing = serial.run('k', async () => {
      throw new Error('boom');
    });
    const after = serial.run('k', async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(after).resolves.toBe('ran');
  });
});
