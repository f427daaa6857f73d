import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';

const root = path.resolve(import.meta.dirname, '../../..');

for (const target of STORE_TARGETS) {
  describeWithServer(
    `crash safety (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      it('keeps every acknowledged write after the writer is killed with SIGKILL', async () => {
        const { dir, cleanup } = tempDir();
        const mongoUrl = target.kind === 'mongo' ? freshMongoUrl() : '';
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'test/support/store-writer.ts', dir, mongoUrl],
          {
            cwd: root,
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const acked: Array<{ id: string; tag: string }> = [];
        await new Promise<void>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', (code, signal) =>
            signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited early: ${code ?? signal}`)),
          );
          createInterface({ input: child.stdout! }).on('line', (line) => {
            const [word, id, tag] = line.split(' ');
            if (word !== 'ACK') return;
            acked.push({ id, tag });
            if (acked.length === 300) child.kill('SIGKILL');
          });
        });
        expect(acked.length).toBeGreaterThanOrEqual(300);

        const store = await openStore({ dataDir: dir, mongoUrl: mongoUrl || undefined });
        try {
          const missing: string[] = [];
          const stale: string[] = [];
          for (const { id, tag } of acked) {
            const doc = (await store.testRecords.get(id)) as { tag?: string } | null;
            if (!doc) missing.push(id);
            else if (tag !== '-' && doc.tag !== tag) stale.push(id);
          }
          expect(missing, 'acknowledged inserts lost').toEqual([]);
          expect(stale, 'acknowledged updates lost').toEqual([]);
        } finally {
          await store.close();
          cleanup();
        }
      });
    },
  );
}
