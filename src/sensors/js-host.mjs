// Runs one JavaScript sensor in its own child process (started by src/sensors/host.ts), which
// talks to the service in JSON lines on fd 3 (../runners/nodejs/child-rpc.mjs), as the Python
// sensor shim does. Plain JavaScript so the same file works from the source tree and from a build.
//
// Parent → child: {type: 'start', entry, className, ref, pack, config, pollInterval, triggers}
//                 {type: 'add_trigger' | 'update_trigger' | 'remove_trigger', trigger}
//                 {type: 'rpc-result', id, result} | {type: 'rpc-result', id, error}
//                 {type: 'stop'}
// Child → parent: {type: 'rpc', id, method, args}   (dispatch, get_value, set_value, …)
//                 {type: 'ready'}
//
// The sensor module default-exports a class (or exports one named like the sensor's class_name);
// it is built with `new SensorClass(sensorService, config)`, then setup(), add_trigger() for each
// trigger of its types, and run() — or, for a polling sensor without run(), poll() every
// pollInterval seconds. run() may return at once: the sensor lives until it is stopped.
import { pathToFileURL } from 'node:url';
import { call, listen, refuseProcessSend, send } from '../runners/nodejs/child-rpc.mjs';

let sensor;
let stopping = false;
let pollTimer;

function makeLogger(name) {
  const write =
    (level) =>
    (msg, ...rest) => {
      const text = typeof msg === 'string' ? msg : JSON.stringify(msg);
      const tail = rest.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join(' ');
      process.stderr.write(`${level} ${name}: ${text}${tail ? ` ${tail}` : ''}\n`);
    };
  return {
    debug: write('DEBUG'),
    info: write('INFO'),
    warn: write('WARNING'),
    warning: write('WARNING'),
    error: write('ERROR'),
    exception: write('ERROR'),
  };
}

function triggerRef(trigger) {
  if (typeof trigger === 'string') return trigger;
  if (trigger && typeof trigger === 'object') {
    if (typeof trigger.ref === 'string') return trigger.ref;
    if (trigger.pack && trigger.name) return `${trigger.pack}.${trigger.name}`;
    if (typeof trigger.type === 'string') return trigger;
  }
  throw new Error(`dispatch: trigger must be a ref string or {pack, name}, got ${JSON.stringify(trigger)}`);
}

function makeSensorService(msg) {
  const dispatch = (trigger, payload = {}, traceTag) =>
    call('dispatch', { trigger: triggerRef(trigger), payload, trace_tag: traceTag ?? undefined });
  const dispatchWithContext = (trigger, payload = {}, traceContext) =>
    call('dispatch', { trigger: triggerRef(trigger), payload, trace_context: traceContext ?? undefined });
  const getValue = (name, opts = {}) => call('get_value', { name, local: true, ...opts });
  const setValue = (name, value, opts = {}) => call('set_value', { name, value, local: true, ...opts });
  const deleteValue = (name, opts = {}) => call('delete_value', { name, local: true, ...opts });
  const listValues = (opts = {}) => call('list_values', { local: true, ...opts });
  const getLogger = (name) => makeLogger(name ? `${msg.ref}.${name}` : msg.ref);
  return {
    dispatch,
    dispatch_with_context: dispatchWithContext,
    dispatchWithContext,
    get_logger: getLogger,
    getLogger,
    logger: getLogger(),
    get_value: getValue,
    getValue,
    set_value: setValue,
    setValue,
    delete_value: deleteValue,
    deleteValue,
    list_values: listValues,
    listValues,
    get_user_info: () => call('get_user_info', {}),
    getUserInfo: () => call('get_user_info', {}),
    ref: msg.ref,
    pack: msg.pack,
  };
}

function pickClass(mod, className, entry) {
  const candidates = [mod.default, mod[className], mod.default?.default];
  const found = candidates.find((c) => typeof c === 'function');
  if (!found) {
    throw new Error(`${entry} must default-export the sensor class (or export a class named ${className})`);
  }
  return found;
}

async function pollLoop(intervalSeconds) {
  const everyMs = Math.max(0.01, Number(intervalSeconds) || 60) * 1000;
  while (!stopping) {
    await sensor.poll();
    if (stopping) break;
    await new Promise((resolve) => {
      pollTimer = setTimeout(resolve, everyMs);
    });
  }
}

async function start(msg) {
  const mod = await import(pathToFileURL(msg.entry).href);
  const SensorClass = pickClass(mod, msg.className, msg.entry);
  const service = makeSensorService(msg);
  sensor = new SensorClass(service, msg.config ?? {});
  for (const [key, value] of Object.entries({
    sensorService: service,
    sensor_service: service,
    config: msg.config ?? {},
  })) {
    if (sensor[key] === undefined) sensor[key] = value;
  }
  if (msg.pollInterval && typeof sensor.set_poll_interval === 'function')
    sensor.set_poll_interval(msg.pollInterval);
  if (typeof sensor.setup === 'function') await sensor.setup();
  for (const trigger of msg.triggers ?? []) {
    if (typeof sensor.add_trigger === 'function') await sensor.add_trigger(trigger);
  }
  send({ type: 'ready' });
  if (typeof sensor.run === 'function') {
    await sensor.run();
  } else if (typeof sensor.poll === 'function') {
    await pollLoop(msg.pollInterval);
  } else {
    throw new Error(`the sensor class of ${msg.entry} has neither run() nor poll()`);
  }
  // run() returned: the sensor stays alive for trigger changes until it is stopped.
}

function crash(err) {
  const error = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`ERROR ${error.stack ?? error.message}\n`);
  process.exit(1);
}

async function stop() {
  if (stopping) return;
  stopping = true;
  clearTimeout(pollTimer);
  try {
    if (sensor && typeof sensor.cleanup === 'function') await sensor.cleanup();
  } catch (err) {
    process.stderr.write(`ERROR cleanup failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  }
  process.exit(0);
}

const TRIGGER_METHODS = new Set(['add_trigger', 'update_trigger', 'remove_trigger']);

listen(
  (msg) => {
    if (msg?.type === 'start') {
      refuseProcessSend(`sensor "${msg.ref}"`);
      start(msg).catch(crash);
    } else if (TRIGGER_METHODS.has(msg?.type)) {
      const fn = sensor?.[msg.type];
      if (typeof fn === 'function') Promise.resolve(fn.call(sensor, msg.trigger)).catch(crash);
    } else if (msg?.type === 'stop') {
      void stop();
    }
  },
  // The service closed the channel (it stopped or went away): clean up and exit.
  () => void stop(),
);
process.on('unhandledRejection', crash);
process.on('uncaughtException', crash);
// Ctrl-C in the terminal of `squall start` reaches its whole process group, this host too: the
// service stops its sensors itself (stop, then cleanup()), which the signal would have skipped.
process.on('SIGINT', () => undefined);
