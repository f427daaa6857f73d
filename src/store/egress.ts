import type { Store } from './index.js';

/**
 * Awaited before anything leaves the process: an API answer, an action with a side effect (a
 * spawn, SSH, HTTP), a chat post or webhook, an event to a stream client or to another process,
 * a sensor's answer. The embedded store acknowledges writes at commit and fsyncs here, so a power
 * cut cannot take back a record someone outside has already been told of or acted on.
 *
 * Resolves once every write issued before the call is on disk; a write issued after it needs
 * another call. Rejects when the disk failed: what was to leave then must not. Immediate on
 * MongoDB, whose writes are acknowledged durable.
 */
export function beforeLeavingProcess(store: Pick<Store, 'sync'>): Promise<void> {
  return store.sync();
}
