/**
 * The chat command language (st2-reference.md §5): parsing commands with alias format strings,
 * choosing the alias a message means, immutable parameters and type casts, help, and the text
 * of acknowledgements and results. Pure functions, no I/O.
 */
export { AliasParseError, AliasFormatError } from './errors.js';
export type { AliasFormat, AliasLike, AliasParameters, NormalisedFormat } from './types.js';
export { aliasRef } from './types.js';
export { extractParameters, extractMultipleParameters, validateFormat } from './parser.js';
export { normaliseFormats } from './formats.js';
export { matchAlias, partialMatches, suggestAliases } from './match.js';
export type {
  AliasMatch,
  AliasCandidate,
  SingleCandidate,
  MultipleCandidate,
  AliasSuggestion,
  PartialMatch,
  SkippedFormat,
  MatchOptions,
} from './match.js';
export { applyImmutableParameters, castAliasParameters } from './params.js';
export type { ParameterSpecLike } from './params.js';
export { buildHelp, humanDisplay, renderHelpText } from './help.js';
export type { HelpResult, HelpString, HelpOptions, HelpTextOptions } from './help.js';
export {
  defaultAckText,
  executionOutput,
  failureReason,
  formatExecutionResult,
  joinPretext,
  splitPretext,
  PRETEXT_DELIMITER,
} from './render.js';
export type { ExecutionLike, FormattedResult, FormatResultOptions } from './render.js';
