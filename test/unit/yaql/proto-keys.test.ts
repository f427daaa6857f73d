import { expect, it } from 'vitest';
import { evaluateYaql } from '../../../src/workflows/expressions/yaql/index.js';

/** Data an action returned (a parsed JSON body holds `__proto__` as an ordinary key). */
const data = JSON.parse('{"body": {"__proto__": {"isAdmin": true}, "user": "eve"}}') as unknown;

it('a "__proto__" key in data or in a dict an expression builds stays a key of the result, not its prototype', () => {
  const body = evaluateYaql('$.body', { data }) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['__proto__', 'user']);
  expect(JSON.stringify(body)).toBe('{"__proto__":{"isAdmin":true},"user":"eve"}');
  expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
  expect(body.isAdmin).toBeUndefined();

  const built = evaluateYaql("{'__proto__' => {'isAdmin' => true}}") as Record<string, unknown>;
  expect(built.isAdmin).toBeUndefined();
  expect(JSON.stringify(built)).toBe('{"__proto__":{"isAdmin":true}}');
});

it("a host function's named argument __proto__ is an argument, not the prototype of the others", () => {
  let seen: Record<string, unknown> = {};
  evaluateYaql("f('__proto__' => {'decrypt' => true})", {
    functions: { f: (named: unknown) => ((seen = named as Record<string, unknown>), null) },
  });
  expect(Object.keys(seen)).toEqual(['__proto__']);
  expect(seen.decrypt).toBeUndefined();
});
