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
 * the spec, normalised. The most recently used are kept (as LruMap keeps its entries), up to
 * MAX_DEFINITIONS and MAX_DEFINITION_CHARS of text; a text longer than that bound alone is not kept
 * (it is parsed at each start, as before).
 */
export class DefinitionCache {
  private readonly specs = new Map<string, WorkflowSpec>();
  private chars = 0;

  constructor(
    private readonly maxEntries = MAX_DEFINITIONS,
    private readonly maxChars = MAX_DEFINITION_CHARS,
  ) {}

  get(text: string): WorkflowSpec | undefined {
    const spec = this.specs.get(text);
    if (spec !== undefined) {
      this.specs.delete(text);
      this.specs.set(text, spec);
    }
    return spec;
  }

  set(text: string, spec: WorkflowSpec): void {
    if (this.specs.has(text) || text.length > this.maxChars) return;
    this.specs.set(text, spec);
    this.chars += text.length;
    // Least recently used first (get() moves a text to the end).
    for (const old of this.specs.keys()) {
      if (this.specs.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.specs.delete(old);
      this.chars -= old.length;
    }
  }

  /** How many definitions and characters of text are kept. */
  get size(): { entries: number; chars: number } {
    return { entries: this.specs.size, chars: this.chars };
  }
}
