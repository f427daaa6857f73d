import { SquallError } from '../src/errors.js';

/**
 * A chat command that does not fit a format string. `code` is `ALIAS_NO_MATCH` (the command does not
 * match the format) or `ALIAS_NO_VALUE` (the format matched but nothing was supplied and nothing
 * has a default). Messages are StackStorm's own, so users and tests recognise them.
 */
export class AliasParseError extends SquallError {
  constructor(
    code: 'ALIAS_NO_MATCH' | 'ALIAS_NO_VALUE',
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(code, message, context, 400);
    this.name = 'AliasParseError';
  }
}

/** A format string that cannot be turned into a regular expression (a content error, not a user one). */
export class AliasFormatError extends SquallError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('ALIAS_BAD_FORMAT', message, context, 400);
    this.name = 'AliasFormatError';
  }
}
