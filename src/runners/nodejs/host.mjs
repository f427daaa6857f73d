// Runs one `nodejs` action inside its own child process (started by src/runners/nodejs.ts), which
// talks to the service in JSON lines on fd 3 (child-rpc.mjs).
// Kept as plain JavaScript so the same file works from the source tree and from a build.
//
// Parent → child: {type: 'run', entry, params, config, executionId, pack, action, maxResultBytes}
//                 {type: 'rpc-result', id, result} | {type: 'rpc-result', id, error}
// Child → parent: {type: 'rpc', id, method, args}
//                 {type: 'result', ok: true, result} | {type: 'result', ok: false, error, stack}
import { pathToFileURL } from 'node:url';
import { call, listen, refuseProcessSend, send } from './child-rpc.mjs';

function makeLogger(action) {
  const write = (level) => (msg, extra) => {
    const text = typeof msg === 'string' ? msg : JSON.stringify(msg);
    const tail = extra === undefined ? '' : ` ${typeof extra === 'string' ? extra : JSON.stringify(extra)}`;
    process.stderr.write(`${new Date().toISOString()} ${level} [${action}] ${text}${tail}\n`);
  };
  return { debug: write('DEBUG'), info: write('INFO'), warn: write('WARNING'), error: write('ERROR') };
}

function makeDatastore() {
  const api = {
    getValue: (name, opts = {}) => call('get_value', { name, ...opts }),
    setValue: (name, value, opts = {}) => call('set_value', { name, value, ...opts }),
    deleteValue: (name, opts = {}) => call('delete_value', { name, ...opts }),
    listValues: (opts = {}) => call('list_values', { ...opts }),
  };
  return { ...api, get: api.getValue, set: api.setValue, delete: api.deleteValue, list: api.listValues };
}

function isClass(fn) {
  return (
    typeof fn === 'function' &&
    (/^class[\s{]/.test(Function.prototype.toString.call(fn)) || typeof fn.prototype?.run === 'function')
  );
}

/**
 * Chat from an action (packs/chatops): posts through Squall's API with the execution's temporary
 * token, so RBAC and routes apply as for any other caller.
 */
function makeChat() {
  const api = process.env.ST2_ACTION_API_URL;
  const token = process.env.ST2_ACTION_AUTH_TOKEN;
  const post = async (path, body) => {
    if (!api) throw new Error('chat is not available: ST2_ACTION_API_URL is not set');
    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { 'X-Auth-Token': token } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`chat ${path} failed with ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    postMessage: (m) => post('/chatops/message', m),
    postResult: (r) => post('/chatops/result', r),
  };
}

async function runAction(msg) {
  const sdk = {
    config: msg.config ?? {},
    logger: makeLogger(msg.action),
    datastore: makeDatastore(),
    chat: makeChat(),
    env: process.env,
    executionId: msg.executionId,
    pack: msg.pack,
  };
  const mod = await import(pathToFileURL(msg.entry).href);
  const candidates = [mod.default, mod.default?.default, mod.run, mod.Action];
  const exported = candidates.find((c) => typeof c === 'function');
  if (!exported) {
    throw new Error(
      `${msg.entry} must export a default function (params, sdk) => result, a class with run(params), or a named run function`,
    );
  }
  if (isClass(exported)) {
    const instance = new exported(sdk);
    for (const key of ['config', 'logger', 'datastore']) {
      if (instance[key] === undefined) instance[key] = sdk[key];
    }
    if (typeof instance.run !== 'function')
      throw new Error(`the class exported by ${msg.entry} has no run(params) method`);
    return instance.run(msg.params, sdk);
  }
  return exported(msg.params, sdk);
}

function finish(message, code) {
  send(message, () => process.exit(code));
}

/**
 * The service reads this process's IPC channel whole: a 500 MB result took it to 1.75 GB of RSS
 * and 13 s of parsing, and a larger one would stop it at V8's string limit. A result over the
 * parent's limit (as JSON, as it travels) fails the action instead, with the reason. (The service
 * bounds every line it reads on fd 3 as well, so code writing there itself cannot get past it.)
 */
function resultMessage(result, maxBytes) {
  const value = result === undefined ? null : result;
  let bytes;
  try {
    bytes = Buffer.byteLength(JSON.stringify(value) ?? 'null');
  } catch (err) {
    bytes = Infinity;
    process.stderr.write(`the result could not be serialised: ${err instanceof Error ? err.message : err}\n`);
  }
  if (!maxBytes || bytes <= maxBytes) return { type: 'result', ok: true, result: value };
  const size = Number.isFinite(bytes) ? `${bytes.toLocaleString('en-US')} bytes` : 'too large to serialise';
  return {
    type: 'result',
    ok: false,
    error: `the action's result was more than ${maxBytes.toLocaleString('en-US')} bytes as JSON (${size}); return less, or write it to a file or the datastore`,
  };
}

let started = false;
listen(
  (msg) => {
    if (started || msg?.type !== 'run') return;
    started = true;
    refuseProcessSend(`nodejs action "${msg.action}"`);
    start(msg);
  },
  // The service closed the channel (it stopped, or cut off this action): nothing to report to.
  () => process.exit(1),
);

function start(msg) {
  runAction(msg).then(
    (result) => {
      const message = resultMessage(result, msg.maxResultBytes);
      finish(message, message.ok ? 0 : 1);
    },
    (err) => {
      const error = err instanceof Error ? err : new Error(String(err));
      process.stderr.write(`${error.stack ?? error.message}\n`);
      finish({ type: 'result', ok: false, error: error.message, stack: error.stack }, 1);
    },
  );
}
