import { expect, it } from 'vitest';
import { LruMap } from '../../../src/lru-map.js';

it('keeps the most recently used entries up to its limit, a read one as a written one', () => {
  const m = new LruMap<string, number | null>(3);
  m.set('a', 1).set('b', 2).set('c', null);
  expect(m.get('a')).toBe(1);
  // A stored null is kept and counts as used.
  expect(m.get('c')).toBeNull();
  m.set('d', 4);
  expect([...m.keys()]).toEqual(['a', 'c', 'd']);
  expect(m.get('b')).toBeUndefined();
  // Written again: the most recent, nothing dropped.
  m.set('a', 10);
  expect([...m.entries()]).toEqual([
    ['c', null],
    ['d', 4],
    ['a', 10],
  ]);
  m.set('e', 5);
  expect([...m.keys()]).toEqual(['d', 'a', 'e']);
  expect(m.size).toBe(3);
});

it('with a weigher, drops the least recently used until the rest weigh at most the bound', () => {
  const m = new LruMap<string, string>(10, { weigh: (_k, v) => v.length, maxWeight: 10 });
  m.set('a', 'aaaa').set('b', 'bbbb');
  expect(m.weight).toBe(8);
  // Read: 'a' is now the most recent, so 'b' goes first.
  m.get('a');
  m.set('c', 'ccc');
  expect([...m.keys()]).toEqual(['a', 'c']);
  expect(m.weight).toBe(7);
  // Rewritten with another weight: the old weight is given back.
  m.set('a', 'a');
  expect(m.weight).toBe(4);
  // One heavier than the whole bound is not kept and evicts nothing; its old value goes.
  m.set('c', 'x'.repeat(11));
  expect([...m.keys()]).toEqual(['a']);
  m.set('z', 'x'.repeat(11));
  expect(m.has('z')).toBe(false);
  expect(m.weight).toBe(1);
  // delete() and clear() give the weight back; the count limit still holds.
  m.delete('a');
  expect(m.weight).toBe(0);
  const n = new LruMap<number, string>(2, { weigh: () => 1, maxWeight: 100 });
  n.set(1, '').set(2, '').set(3, '');
  expect([...n.keys()]).toEqual([2, 3]);
  expect(n.weight).toBe(2);
  n.clear();
  expect([n.size, n.weight]).toEqual([0, 0]);
});
