import type { Readable } from 'node:stream';

/**
 * Splits a stream into lines of at most `maxBytes` each. readline has no bound: a Python action
 * that returned a 600 MB string made it grow one line until V8's string limit threw inside the
 * stream's data handler, an uncaught exception that stops the whole service. A longer line is
 * dropped (up to its newline) and reported with the bytes seen so far.
 */
export function boundedLines(
  stream: Readable,
  maxBytes: number,
  onLine: (line: string) => void,
  onOversize: (bytes: number) => void,
): void {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  const overflow = (): void => {
    if (!skipping) onOversize(size);
    skipping = true;
    parts = [];
  };
  stream.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (!skipping && size + piece.length <= maxBytes) {
        parts.push(piece);
        const line = Buffer.concat(parts).toString('utf8');
        parts = [];
        size = 0;
        onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      } else {
        size += piece.length;
        overflow();
        skipping = false;
        size = 0;
      }
    }
    const rest = chunk.subarray(start);
    if (!rest.length) return;
    size += rest.length;
    if (skipping) return;
    if (size > maxBytes) overflow();
    else parts.push(Buffer.from(rest));
  });
  stream.on('end', () => {
    if (!skipping && parts.length) onLine(Buffer.concat(parts).toString('utf8'));
  });
}
