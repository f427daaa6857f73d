import { LruMap } from '../../lru-map.js';
import type { WorkflowSpec } from '../orquesta/index.js';

/** Most definitions kept. */
const MAX_DEFINITIONS = 100;
/**
 * Most characters of definition text kept in all: a spec parsed from it holds several times its
 * text, so 100 large definitions (each edit of a file is one more text) held gigabytes.
 */
export const MAX_DEFINITION_CHARS = 8 * 1024 * 1024;

/**
 * Orquesta definitions whose text passed every check that the text alone decides, by their text:
 * the spec, normalised. The most recently used are kept, up to MAX_DEFINITIONS and
 * MAX_DEFINITION_CHARS of text (the text's length is each entry's weight); a text longer than that
 * bound alone is not kept (it is parsed at each start, as before).
 */
export class DefinitionCache extends LruMap<string, WorkflowSpec> {
  constructor(maxEntries = MAX_DEFINITIONS, maxChars = MAX_DEFINITION_CHARS) {
    super(maxEntries, { weigh: (text) => text.length, maxWeight: maxChars });
  }
}
