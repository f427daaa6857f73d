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
