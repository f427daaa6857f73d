// Loaded with `--import` into a `squall start` child process by the claim takeover tests: the
// process SIGKILLs itself as soon as a claim whose key starts with SQUALL_TEST_KILL_AFTER_CLAIM is
// stored, before it does the claimed work, as a crash at the worst moment would.
import { MongoRepoCollection } from '../../src/store/mongo/collection.js';
import { SqliteCollection } from '../../src/store/sqlite/collection.js';
import { whenDurable } from '../../src/store/scope.js';

const prefix = process.env.SQUALL_TEST_KILL_AFTER_CLAIM;
if (prefix) {
  for (const proto of [SqliteCollection.prototype, MongoRepoCollection.prototype]) {
    const insert = proto.insert as (this: { name: string }, doc: { id: string }) => Promise<unknown>;
    proto.insert = async function (this: { name: string }, doc: { id: string }) {
      const stored = await insert.call(this, doc);
      if (this.name === 'claims' && doc.id.startsWith(prefix)) {
        // Inside an embedded-store transaction the insert resolves before it is on disk; the crash
        // this stands for comes after the claim is stored, so it waits for the commit.
        whenDurable(() => {
          process.stdout.write(`KILLED AFTER CLAIM ${doc.id}\n`);
          process.kill(process.pid, 'SIGKILL');
        });
      }
      return stored;
    } as never;
  }
}
