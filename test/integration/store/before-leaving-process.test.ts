import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { beforeLeavingProcess, openStore, type Store } from '../../../src/store/index.js';
import { holdFsync } from '../../support/disk.js';
import { describeWithServer, freshMongoUrl, MONGO_URL, tempDir } from '../../support/servers.js';
import { sleep, waitFor } from '../../support/wait.js';

/**
 * The gate every egress awaits (API answers, runners with effects, chat, streams, Redis events,
 * sensor answers): what leaves must be on disk first, and must not leave if the disk failed.
 */
describe('beforeLeavingProcess (embedded store)', () => {
  let store: Store | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await store?.close();
    cleanup?.();
  });

  const open = async () => {
    const temp = tempDir();
    cleanup = temp.cleanup;
    store = await openStore({ dataDir: temp.dir });
    return store;
  };

  it('resolves only once the writes issued before it are fsynced', async () => {
    const s = await open();
    const disk = holdFsync(s.embedded!);
    try {
      await s.testRecords.insert({ id: newId(), n: 1 });
      let left = false;
      const leaving = beforeLeavingProcess(s).then(() => (left = true));
      await waitFor(() => disk.waiting > 0, 'the fsync to be asked for');
      await sleep(200);
      expect(left).toBe(false);
      disk.release();
      await leaving;
      expect(left).toBe(true);
    } finally {
      disk.restore();
    }
  });

  it('rejects when the disk failed, so nothing that was to leave does', async () => {
    const s = await open();
    const disk = holdFsync(s.embedded!);
    try {
      await s.testRecords.insert({ id: newId(), n: 1 });
      disk.fail();
      let sent = false;
      await expect(beforeLeavingProcess(s).then(() => (sent = true))).rejects.toMatchObject({
        code: 'STORE_FSYNC_FAILED',
      });
      expect(sent).toBe(false);
    } finally {
      disk.restore();
    }
  });
});

describeWithServer('beforeLeavingProcess (MongoDB)', 'MongoDB/FerretDB', Boolean(MONGO_URL), () => {
  it('resolves: the server acknowledged the writes durable', async () => {
    const temp = tempDir();
    const store = await openStore({ dataDir: temp.dir, mongoUrl: freshMongoUrl() });
    try {
      const id = newId();
      await store.testRecords.insert({ id, n: 1 });
      await beforeLeavingProcess(store);
      expect(await store.testRecords.get(id)).toMatchObject({ id, n: 1 });
    } finally {
      await store.close();
      temp.cleanup();
    }
  });
});
