// Workflow expression errors as st2 writes them in a workflow's result (its wiring tests compare
// these messages exactly): orquesta's `Exception: message` after the expression.
import { describe, expect, it } from 'vitest';
import { SquallError } from '../../../src/errors.js';
import {
  checkExpressionSyntax,
  evaluateExpression,
  type ExpressionScope,
} from '../../../src/workflows/expressions/index.js';

const scope = {
  ctx: { st2: { user: 'stanley' }, name: 'Lakshmi' },
  task: () => {
    throw new SquallError('WORKFLOW_TASK_NOT_FOUND', 'Unable to find task execution for "task0".', {});
  },
  st2kv: () => undefined,
} as unknown as ExpressionScope;

const failure = (expression: string): string => {
  try {
    evaluateExpression(expression, scope);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${expression} did not fail`);
};

describe('workflow expression errors in st2 words', () => {
  it('a task that does not exist, in YAQL and in Jinja', () => {
    expect(failure('<% task("task0") %>')).toBe(
      'YaqlEvaluationException: Unable to evaluate expression \'<% task("task0") %>\'. ' +
        'ExpressionEvaluationException: Unable to find task execution for "task0".',
    );
    expect(failure('{{ task("task0") }}')).toBe(
      'JinjaEvaluationException: Unable to evaluate expression \'{{ task("task0") }}\'. ' +
        'ExpressionEvaluationException: Unable to find task execution for "task0".',
    );
  });

  it('a datastore key that does not exist names the key as stored (system, or user:name)', () => {
    expect(failure('<% st2kv("system.matt") %>')).toContain(
      'ExpressionEvaluationException: The key "matt" does not exist in the StackStorm datastore.',
    );
    expect(failure('{{ st2kv("matt") }}')).toContain(
      'ExpressionEvaluationException: The key "stanley:matt" does not exist in the StackStorm datastore.',
    );
  });

  it('a property of a value that is not a dict is YAQL\'s unknown function "#property#name"', () => {
    expect(failure('<% ctx().name.value %>')).toBe(
      "YaqlEvaluationException: Unable to evaluate expression '<% ctx().name.value %>'. " +
        'NoFunctionRegisteredException: Unknown function "#property#value"',
    );
  });

  it('an undefined variable reads as orquesta says it', () => {
    expect(failure('<% ctx(nobody) %>')).toBe(
      "YaqlEvaluationException: Unable to evaluate expression '<% ctx(nobody) %>'. " +
        'VariableUndefinedError: The variable "nobody" is undefined.',
    );
  });
});

// What Python's yaql 3 says of each (checked against yaql 3.2.0 when written): st2's inspection
// errors carry these words, e.g. test_inspection_error's `<% <% succeeded() %>`. yaql pulls tokens
// lazily, so a grammar error before an illegal character is the one reported.
const YAQL_SYNTAX: Array<[string, string]> = [
  ['<% <% succeeded() %>', "Parse error: unexpected '<' at position 0 of expression '<% succeeded()'"],
  ['<% 1 <% %>', "Lexical error: illegal character '%' at position 3"],
  ['<% $x ~ 3 %>', "Lexical error: illegal character '~' at position 3"],
  ['<% 1 + %>', 'Parse error: unexpected end of statement'],
  ['<% foo( %>', 'Parse error: unexpected end of statement'],
  ['<% 1 2 %>', "Parse error: unexpected '2' at position 2 of expression '1 2'"],
  ['<% >= 2 %>', "Parse error: unexpected '>=' at position 0 of expression '>= 2'"],
  ['<% {a=>} %>', "Parse error: unexpected '}' at position 4 of expression '{a=>}'"],
  ['<% f(a=>1, 2) %>', "Parse error: unexpected ')' at position 9 of expression 'f(a=>1, 2)'"],
  ['<% f(a=>1, 2, 3) %>', "Parse error: unexpected ',' at position 9 of expression 'f(a=>1, 2, 3)'"],
  ["<% 'ab %>", "Lexical error: illegal character ''' at position 0"],
  ['<% $.__x %>', "Lexical error: illegal character '_' at position 2"],
  ['<% 1a %>', "Lexical error: illegal character '1' at position 0"],
];

describe("YAQL syntax errors in yaql's words (st2 inspection errors)", () => {
  for (const [text, message] of YAQL_SYNTAX) {
    it(text, () => {
      expect(checkExpressionSyntax(text)).toEqual([{ expression: text, language: 'yaql', message }]);
    });
  }
});
