import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './service-process.js';

/** Set to write the chat transcripts under docs/chat/ (npm test leaves tracked files alone). */
export const WRITE_TRANSCRIPTS = process.env.SQUALL_WRITE_TRANSCRIPTS === '1';

/** Ids, ports and clock times vary per run; a transcript keeps only what a reader needs. */
function stable(text: string): string {
  return (
    text
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
      .replace(/\b[0-9a-f]{24}\b/g, '<execution-id>')
      .replace(/127\.0\.0\.1:\d{4,5}/g, '127.0.0.1:<port>')
      .replace(/\b\d\d:\d\d UTC\b/g, '<hh:mm> UTC')
      // A card's elapsed time ("· 0.4 s", "· 2 min 5 s").
      .replace(/· (\d+ min )?\d+(\.\d)? s\b/g, '· <elapsed>')
  );
}

/**
 * Writes `docs/chat/<scenario>.json`: what people saw in one chat scenario, as the test drove
 * it. Only with SQUALL_WRITE_TRANSCRIPTS=1; the content is stable, so a re-run changes nothing.
 */
export function saveTranscript(scenario: string, description: string, lines: unknown[]): void {
  if (!WRITE_TRANSCRIPTS) return;
  const dir = path.join(ROOT, 'docs', 'chat');
  mkdirSync(dir, { recursive: true });
  const body = JSON.parse(stable(JSON.stringify({ scenario, description, transcript: lines }))) as unknown;
  writeFileSync(path.join(dir, `${scenario}.json`), JSON.stringify(body, null, 2) + '\n');
}
