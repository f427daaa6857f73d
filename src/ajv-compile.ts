import type { Ajv, AnySchema, ValidateFunction } from 'ajv';

/**
 * Compiles schemas on an ajv that does not keep them for ever. An ajv keeps every schema it
 * compiled, and every validator's code and values (its `scope`), for its own life: callers that
 * bound their own cache of validators still grew without end — each inquiry's schema (anyone who
 * may run core.ask writes one) stayed, ~90 KiB for 50 fields. So an ajv compiles at most
 * `perAjv` schemas, then the next is made; an old one goes with the last of its validators the
 * caller drops. Every validator holds its whole ajv (their code shares one scope), so a caller
 * that keeps N validators keeps up to N × perAjv: 1 where anyone's schema is compiled (a new
 * ajv costs ~9 ms), more for packs' schemas, compiled by the thousand at registration. A schema
 * with an `$id` (registered by that id, which a second, different schema could not reuse) gets an
 * ajv of its own.
 */
export class UnkeptAjv {
  private current: Ajv | undefined;
  private compiles = 0;

  constructor(
    private readonly make: () => Ajv,
    private readonly perAjv: number,
  ) {}

  /** `json`: the schema's JSON (the caller's cache key), to see an `$id` without walking it. */
  compile(schema: object, json: string): ValidateFunction {
    if (json.includes('"$id"')) return this.make().compile(schema as AnySchema);
    if (!this.current || this.compiles >= this.perAjv) {
      this.current = this.make();
      this.compiles = 0;
    }
    this.compiles++;
    return this.current.compile(schema as AnySchema);
  }
}
