// The child's side of the RPC a forked process (a `nodejs` action, a JavaScript sensor) makes to
// its parent over Node IPC: {type: 'rpc', id, method, args} out, {type: 'rpc-result', id, result}
// or {type: 'rpc-result', id, error} back. Plain JavaScript, like the hosts that import it.

let nextId = 0;
const pending = new Map();

/** Asks the parent to run `method`; settles with its answer. */
export function call(method, args) {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    process.send({ type: 'rpc', id, method, args });
  });
}

/** Settles the call a parent's `rpc-result` answers. False when `msg` is not an RPC answer. */
export function settle(msg) {
  if (msg?.type !== 'rpc-result') return false;
  const waiter = pending.get(msg.id);
  if (waiter) {
    pending.delete(msg.id);
    if ('error' in msg) waiter.reject(new Error(msg.error));
    else waiter.resolve(msg.result);
  }
  return true;
}
