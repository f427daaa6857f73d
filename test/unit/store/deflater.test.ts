import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RawDeflater } from '../../../src/store/sqlite/deflater.js';

const OPTIONS = { windowBits: 12, memLevel: 5, level: 6, chunkSize: 512 } as const;
const DICTIONARY = Buffer.from(
  '{"action":{"ref":"core.local","runner_type":"local-shell-cmd"},"status":"succeeded"}',
);

/** Records of every size a row's compressed part has, and some it never has. */
function texts(): string[] {
  const out: string[] = ['', '{}'];
  for (let i = 0; i < 40; i++)
    out.push(
      JSON.stringify({ action: { ref: `core.local${i}` }, parameters: { cmd: 'x'.repeat(i * 37) }, i }),
    );
  out.push(JSON.stringify({ blob: randomBytes(30_000).toString('base64') })); // past the kept output room
  out.push(randomBytes(5_000).toString('latin1')); // incompressible
  out.push(JSON.stringify({ after: 'the large ones', status: 'succeeded' }));
  return out;
}

describe('RawDeflater (one kept zlib stream per dictionary)', () => {
  for (const [name, options] of [
    ['with a dictionary', { ...OPTIONS, dictionary: DICTIONARY }],
    ['without one', OPTIONS],
  ] as const) {
    it(`writes the bytes deflateRawSync writes, call after call, ${name}`, () => {
      const deflater = new RawDeflater(options);
      const prefix = Buffer.of(2, 0, 0, 0, 7);
      for (const text of texts()) {
        const got = deflater.deflate(text, prefix);
        expect(got.subarray(0, 5)).toEqual(prefix);
        expect(got.subarray(5).equals(deflateRawSync(text, options)), text.slice(0, 40)).toBe(true);
        const back = inflateRawSync(got.subarray(5), {
          windowBits: 12,
          ...('dictionary' in options ? { dictionary: DICTIONARY } : {}),
        });
        expect(back.toString()).toBe(Buffer.from(text).toString());
      }
    });
  }

  it('deflates again after it was closed (a replaced dictionary)', () => {
    const deflater = new RawDeflater({ ...OPTIONS, dictionary: DICTIONARY });
    const text = JSON.stringify({ status: 'running' });
    const first = deflater.deflate(text, Buffer.alloc(0));
    deflater.close();
    expect(deflater.deflate(text, Buffer.alloc(0))).toEqual(first);
  });
});
