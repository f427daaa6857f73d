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

describe('Codec.encode for a document written at once (the embedded store)', () => {
  it('stores the same text as a copying encode, escaped keys, class instances and __proto__ keys included', () => {
    class Point {
      'y.z' = 2;
      constructor(public x: number) {}
    }
    const record = {
      id: 'a4',
      'top.key': 1,
      when: new Date(5),
      nested: { $ref: 'x', list: [{ 'a.b': { 'c.d': true } }, 3, null, [{ $k: 1 }]], plain: 'v' },
      deep: { a: { b: [{ c: 1 }] } },
      point: new Point(1),
      bytes: Buffer.from('ab'),
      hostile: JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown,
      blob: { 'x.y': 1 },
    };
    expect(JSON.stringify(codec.encode(record, true))).toBe(JSON.stringify(codec.encode(record)));
  });

  it('hands over the values whose keys need no escaping instead of copying them', () => {
    const record = { id: 'a5', context: { user: 'u', rule: { ref: 'p.r' } }, list: [{ n: 1 }] };
    const stored = codec.encode(record, true);
    expect(stored.context).toBe(record.context);
    expect(stored.list).toBe(record.list);
    expect(codec.encode(record).context).not.toBe(record.context);
  });
});
