// The child's side of the channel a Node process (a `nodejs` action, a JavaScript sensor) shares
// with the service: JSON lines on fd 3, as the Python action wrapper and sensor shim use.
// {type: 'rpc', id, method, args} out, {type: 'rpc-result', id, result} or
// {type: 'rpc-result', id, error} back. Plain JavaScript, like the hosts that import it.
//
// Not Node IPC: the service read an IPC message whole before it could look at it, so pack code
// calling process.send with a huge message (or a flood of them) grew the service's memory without
// limit. On fd 3 the service reads lines of at most a bounded size, and stops reading while too
// many requests are in flight (src/runners/json-channel.ts). process.send is not there.

import net from 'node:net';
import { createInterface } from 'node:readline';

let nextId = 0;
const pending = new Map();
let channel;

function open() {
  if (channel) return channel;
  channel = new net.Socket({ fd: 3, readable: true, writable: true });
  // The service went away (or cut the channel): writes fail with EPIPE; 'close' says so.
  channel.on('error', () => undefined);
  return channel;
}

/** Writes one message to the service; `done` runs once it is handed to the OS. */
export function send(message, done) {
  const ch = open();
  if (ch.destroyed || !ch.writable) {
    if (done) done();
    return;
  }
  ch.write(`${JSON.stringify(message)}\n`, () => done?.());
}

/**
 * Calls `handler` with each message from the service that is not an RPC answer, and `onClose`
 * when the service closes the channel. Also replaces process.send, which a forked child would
 * have, with one that says why it is not there.
 */
export function listen(handler, onClose) {
  const ch = open();
  createInterface({ input: ch })
    .on('line', (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (!settle(msg)) handler(msg);
    })
    .on('error', () => undefined);
  ch.on('close', () => onClose?.());
  refuseProcessSend('this process');
}

/** process.send, for pack code that calls it: an error naming the action or sensor. */
export function refuseProcessSend(who) {
  process.send = () => {
    throw new Error(
      `${who}: process.send is not available (there is no IPC channel); return a result, or use the SDK`,
    );
  };
}

/** Asks the parent to run `method`; settles with its answer. */
export function call(method, args) {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    send({ type: 'rpc', id, method, args });
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
