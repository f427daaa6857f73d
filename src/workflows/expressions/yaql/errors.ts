import { SquallError } from '../../../errors.js';

/**
 * The expression text cannot be read (lexer or grammar). `position` is a 0-based offset.
 * `yaqlMessage` is what Python's yaql says of it (st2 reports that in inspection errors).
 */
export class YaqlSyntaxError extends SquallError {
  readonly position: number;
  readonly yaqlMessage: string;

  constructor(expression: string, position: number, reason: string, yaqlMessage?: string) {
    super(
      'YAQL_SYNTAX',
      `YAQL expression "${expression}" is not valid at position ${position}: ${reason}`,
      { expression, position, reason },
      400,
    );
    this.name = 'YaqlSyntaxError';
    this.position = position;
    this.yaqlMessage =
      yaqlMessage ??
      `Lexical error: illegal character '${expression[position] ?? ''}' at position ${position}`;
  }
}

/** The expression parsed but could not be evaluated against the data given. */
export class YaqlEvaluationError extends SquallError {
  constructor(expression: string, reason: string, context: Record<string, unknown> = {}) {
    super(
      'YAQL_EVAL',
      `YAQL expression "${expression}" could not be evaluated: ${reason}`,
      { expression, reason, ...context },
      400,
    );
    this.name = 'YaqlEvaluationError';
  }
}

/**
 * Raised inside the evaluator and the standard library; `evaluateYaql` turns it into a
 * YaqlEvaluationError that names the whole expression. `kind` mirrors the Python exception class
 * YAQL would raise, which helps when comparing with the reference implementation.
 */
export class YaqlFailure extends Error {
  readonly kind: string;
  readonly details: Record<string, unknown>;

  constructor(kind: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.kind = kind;
    this.details = details;
  }
}
