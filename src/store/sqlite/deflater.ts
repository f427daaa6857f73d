import { constants, createDeflateRaw, deflateRawSync, type DeflateRaw, type ZlibOptions } from 'node:zlib';

/** The native zlib handle behind a zlib stream (Node's lib/zlib.js drives it the same way). */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  reset(): void;
}

/** Output room for `n` bytes in (zlib's deflateBound for raw deflate, with margin). */
function bound(n: number): number {
  return n + (n >> 12) + (n >> 14) + (n >> 25) + 64;
}

let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * deflateRawSync(input, options), prefixed with `prefix`, on one zlib stream kept for these options
 * (a dictionary included) and reset after each call. Node's deflateRawSync builds a Transform
 * stream and a zlib state per call and frees them after it (Node 20 has no reusable synchronous
 * handle): that setup cost more than deflating an execution's 1.2 KB. The output is the same bytes
 * (zlib's reset keeps the options and sets the dictionary again); where the handle Node keeps
 * inside the stream is not as expected, or a call does not finish, the call goes to deflateRawSync.
 */
export class RawDeflater {
  private engine?: DeflateRaw;
  private handle?: ZlibHandle;
  private state?: Uint32Array;
  private failed?: unknown;
  private reusable = true;

  constructor(private readonly options: ZlibOptions) {}

  deflate(text: string, prefix: Buffer): Buffer {
    const input = Buffer.from(text);
    const out = this.reusable ? this.once(input, prefix) : undefined;
    return out ?? Buffer.concat([prefix, deflateRawSync(input, this.options)]);
  }

  /** Frees the zlib state (a replaced dictionary's deflater). */
  close(): void {
    this.engine?.close();
    this.engine = this.handle = this.state = undefined;
  }

  private open(): boolean {
    if (this.handle) return true;
    const engine = createDeflateRaw(this.options);
    const inner = engine as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
    const handle = inner._handle;
    if (
      typeof handle?.writeSync !== 'function' ||
      typeof handle.reset !== 'function' ||
      !(inner._writeState instanceof Uint32Array)
    ) {
      engine.close();
      this.reusable = false;
      return false;
    }
    engine.on('error', (err) => (this.failed = err));
    this.engine = engine;
    this.handle = handle as ZlibHandle;
    this.state = inner._writeState;
    return true;
  }

  /** One deflate on the kept stream; undefined when it could not finish there (deflateRawSync then). */
  private once(input: Buffer, prefix: Buffer): Buffer | undefined {
    if (!this.open()) return undefined;
    const room = bound(input.length);
    if (scratch.length < room) scratch = Buffer.allocUnsafe(room);
    const handle = this.handle!;
    const state = this.state!;
    handle.writeSync(constants.Z_FINISH, input, 0, input.length, scratch, 0, room);
    const outLeft = state[0];
    const inLeft = state[1];
    if (this.failed !== undefined || this.engine!.destroyed) {
      // zlib reported an error on this stream (Node destroys it at once and emits the error on the
      // next tick): deflateRawSync reports it, or succeeds, afresh.
      this.failed = undefined;
      this.close();
      return undefined;
    }
    handle.reset();
    if (outLeft === 0 || inLeft !== 0) return undefined;
    const length = room - outLeft;
    const out = Buffer.allocUnsafe(prefix.length + length);
    prefix.copy(out, 0);
    scratch.copy(out, prefix.length, 0, length);
    return out;
  }
}
