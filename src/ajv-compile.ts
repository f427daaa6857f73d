import type { Ajv, AnySchema, ValidateFunction } from 'ajv';

/** How many schemas one ajv compiles before a new one takes over. */
const COMPILES_PER_AJV = 100;

/**
 * Compiles schemas on an ajv that does not keep them for ever. An ajv keeps every schema it
 * compiled, and every validator's code and values (its `scope`), for its own life: callers that
 * bound their own cache of validators still grew without end — each inquiry's schema (anyone who
 * may run core.ask writes one) stayed, ~90 KiB for 50 fields. So an ajv compiles at most
 * COMPILES_PER_AJV schemas, then the next is made; an old one goes with the last of its
 * validators the caller drops. A schema with an `$id` (registered by that id, which a second,
 * different schema could not reuse) gets an ajv of its own.
 */
export class UnkeptAjv {
  private current: Ajv | undefined;
  private compiles = 0;

  constructor(private readonly make: () => Ajv) {}

  /** `json`: the schema's JSON (the caller's cache key), to see an `$id` without walking it. */
  compile(schema: object, json: string): ValidateFunction {
    if (json.includes('"$id"')) return this.make().compile(schema as AnySchema);
    if (!this.current || this.compiles >= COMPILES_PER_AJV) {
      this.current = this.make();
      this.compiles = 0;
    }
    this.compiles++;
    return this.current.compile(schema as AnySchema);
  }
}
