import { describe, expect, it } from 'vitest';
import { Codec } from '../../../src/store/codec.js';

const codec = new Codec({ name: 'things', indexes: [], opaque: ['blob'] } as never);

describe('Codec.decode', () => {
  it('restores dotted and $-keys at any depth, inside arrays too', () => {
    const record = {
      id: 'a1',
      'top.key': 1,
      nested: { $ref: 'x', list: [{ 'a.b': { 'c.d': true } }, 3, null], plain: 'v' },
      blob: { 'x.y': 1 },
    };
    const stored = codec.encode(record);
    expect(JSON.stringify(stored)).not.toMatch(/"top\.key"|"\$ref"|"a\.b"/);
    const decoded = codec.decode(JSON.parse(JSON.stringify(stored)));
    expect(decoded).toEqual(record);
  });

  it('hands over the parsed document instead of copying it again when no key was escaped', () => {
    const doc = JSON.parse('{"_id":"a2","result":{"stdout":"ok","rows":[{"n":1}]},"context":{"user":"u"}}');
    const decoded = codec.decode<Record<string, unknown>>(doc)!;
    expect(decoded).toEqual({ id: 'a2', result: { stdout: 'ok', rows: [{ n: 1 }] }, context: { user: 'u' } });
    expect(decoded.result).toBe(doc.result);
    expect(decoded.context).toBe(doc.context);
  });

  it('rebuilds only the objects on the way to an escaped key', () => {
    const doc = codec.encode({ id: 'a3', a: { keep: { n: 1 }, 'dotted.key': 2 }, b: { n: 2 } });
    const parsed = JSON.parse(JSON.stringify(doc));
    const decoded = codec.decode<Record<string, Record<string, unknown>>>(parsed)!;
    expect(decoded.a).toEqual({ keep: { n: 1 }, 'dotted.key': 2 });
    expect(decoded.a).not.toBe(parsed.a);
    expect(decoded.a.keep).toBe(parsed.a.keep);
    expect(decoded.b).toBe(parsed.b);
  });
});
