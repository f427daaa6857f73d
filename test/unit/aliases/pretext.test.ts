import { describe, expect, it } from 'vitest';
import { failureReason, joinPretext, splitPretext } from '../../../aliases/index.js';

describe("hubot-stackstorm's {~} separator", () => {
  it('splits the pretext from the body as utils.splitMessage does', () => {
    expect(splitPretext('NORMAL PRETEXT{~}normal boring text')).toEqual({
      pretext: 'NORMAL PRETEXT',
      text: 'normal boring text',
    });
    expect(splitPretext('NORMAL PRETEXT{~}')).toEqual({ pretext: 'NORMAL PRETEXT', text: '' });
    expect(splitPretext('no separator')).toEqual({ pretext: '', text: 'no separator' });
    // Whatever follows a second separator is dropped, as in hubot.
    expect(splitPretext('a{~}b{~}c')).toEqual({ pretext: 'a', text: 'b' });
  });

  it('shows pretext and body on their own lines, never the separator', () => {
    expect(joinPretext('Installed packs:{~}csv, email')).toBe('Installed packs:\ncsv, email');
    expect(joinPretext('Only a pretext{~}')).toBe('Only a pretext');
    expect(joinPretext('{~}only a body')).toBe('only a body');
    expect(joinPretext('plain')).toBe('plain');
  });
});

describe('failureReason', () => {
  it("names the runner's error, per host for remote runs, else the stderr tail", () => {
    expect(failureReason({ result: { error: 'timed out after 3 s', stdout: '' } })).toBe(
      'timed out after 3 s',
    );
    expect(
      failureReason({
        result: {
          localhost: { return_code: 255, stdout: '', stderr: '', error: 'connect ECONNREFUSED 127.0.0.1:22' },
          web1: { return_code: 0, stdout: 'up', stderr: '' },
        },
      }),
    ).toBe('localhost: connect ECONNREFUSED 127.0.0.1:22');
    expect(failureReason({ result: { return_code: 1, stdout: '', stderr: 'a\nb\nno such file' } })).toBe(
      'a\nb\nno such file',
    );
    expect(failureReason({ result: { errors: [{ task_id: 't1', message: 'boom' }] } })).toBe('[t1] boom');
    expect(failureReason({ result: { return_code: 1, stdout: '', stderr: '' } })).toBeUndefined();
  });
});
