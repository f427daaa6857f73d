// Squall's JavaScript sensor SDK: base classes with st2's method names (st2-reference.md §3.3).
// Extending them is optional — the host only needs a class built as `new Sensor(sensorService,
// config)` with setup/run/cleanup (or poll) — but they document the contract and give
// PollingSensor its loop and get/set_poll_interval.
//
//   import { PollingSensor } from '<squall>/src/sensors/sdk.mjs';
//   export default class MySensor extends PollingSensor {
//     async poll() { await this.sensorService.dispatch('mypack.event', { ok: true }, 'trace-tag'); }
//   }
//
// sensorService: dispatch(trigger, payload, traceTag), dispatch_with_context(trigger, payload,
// traceContext), get_logger(name), logger, get_value/set_value/list_values/delete_value (local to
// this sensor unless {local: false}), get_user_info(); camelCase aliases of each.

export class Sensor {
  constructor(sensorService, config = {}) {
    this.sensorService = sensorService;
    this.sensor_service = sensorService;
    this.config = config;
  }

  async setup() {}

  async run() {
    throw new Error(`${this.constructor.name} must implement run()`);
  }

  async cleanup() {}

  async add_trigger(_trigger) {}

  async update_trigger(_trigger) {}

  async remove_trigger(_trigger) {}
}

export class PollingSensor extends Sensor {
  constructor(sensorService, config = {}, pollInterval = 5) {
    super(sensorService, config);
    this.pollInterval = pollInterval;
    this.stopped = false;
  }

  async poll() {
    throw new Error(`${this.constructor.name} must implement poll()`);
  }

  async run() {
    while (!this.stopped) {
      await this.poll();
      await new Promise((resolve) => {
        this.pollTimer = setTimeout(resolve, this.pollInterval * 1000);
      });
    }
  }

  async cleanup() {
    this.stopped = true;
    clearTimeout(this.pollTimer);
  }

  get_poll_interval() {
    return this.pollInterval;
  }

  set_poll_interval(seconds) {
    this.pollInterval = seconds;
  }
}
