// Loaded with `--import` into a `squall start` child process by the claim takeover tests: the
// process SIGKILLs itself at the worst moment a crash could come, once what it wrote there is on
// disk:
// - SQUALL_TEST_KILL_AFTER_CLAIM=<prefix>: right after a claim whose key starts with <prefix> is
//   stored, before the claimed work is done;
// - SQUALL_TEST_KILL_AFTER_STATUS=<status>: right after an execution's move to <status> is stored,
//   before anything that completion sets off runs.
// - SQUALL_TEST_KILL_BEFORE_DONE=<prefix>: once the work of a claim whose key starts with <prefix>
//   is done (a chat message posted), before the claim is marked done.
import { MongoRepoCollection } from '../../src/store/mongo/collection.js';
import { SqliteCollection } from '../../src/store/sqlite/collection.js';
import { whenDurable } from '../../src/store/scope.js';

const prefix = process.env.SQUALL_TEST_KILL_AFTER_CLAIM;
const status = process.env.SQUALL_TEST_KILL_AFTER_STATUS;
const beforeDone = process.env.SQUALL_TEST_KILL_BEFORE_DONE;

function die(what: string): never {
  process.stdout.write(`KILLED AFTER ${what}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: killed');
}

type Collection = { name: string; database?: { sync(): Promise<void> } };

for (const proto of [SqliteCollection.prototype, MongoRepoCollection.prototype]) {
  if (prefix) {
    const insert = proto.insert as (this: Collection, doc: { id: string }) => Promise<unknown>;
    proto.insert = async function (this: Collection, doc: { id: string }) {
      const stored = await insert.call(this, doc);
      if (this.name === 'claims' && doc.id.startsWith(prefix)) {
        // Inside an embedded-store transaction the insert resolves before it is on disk; the crash
        // this stands for comes after the claim is stored, so it waits for the commit.
        whenDurable(() => die(`CLAIM ${doc.id}`));
      }
      return stored;
    } as never;
  }
  if (beforeDone) {
    const updateOne = proto.updateOne as (this: Collection, ...args: unknown[]) => Promise<unknown>;
    proto.updateOne = async function (this: Collection, ...args: unknown[]) {
      const filter = args[0] as { id?: unknown };
      const update = args[1] as { $set?: { done_at?: string } };
      if (
        this.name === 'claims' &&
        typeof filter.id === 'string' &&
        filter.id.startsWith(beforeDone) &&
        update.$set?.done_at
      ) {
        await this.database?.sync();
        die(`WORK ${filter.id}`);
      }
      return updateOne.apply(this, args);
    } as never;
  }
  if (status) {
    const updateOne = proto.updateOne as (this: Collection, ...args: unknown[]) => Promise<unknown>;
    proto.updateOne = async function (this: Collection, ...args: unknown[]) {
      const updated = (await updateOne.apply(this, args)) as { id: string } | null;
      const update = args[1] as { $set?: { status?: string } };
      if (this.name === 'executions' && updated && update.$set?.status === status) {
        // Not at the end of the store transaction (whenDurable): the writes made so far are
        // committed (the embedded store commits each event-loop turn), the rest never happen.
        await this.database?.sync();
        die(`STATUS ${status} ${updated.id}`);
      }
      return updated;
    } as never;
  }
}
