// A polling sensor in Squall's JS sensor shape (see README): the host calls poll() every
// poll_interval seconds (st2 PollingSensor semantics); setup/cleanup bracket its life.
export default class SamplePollingSensor {
  constructor(sensorService, config = {}) {
    this.sensorService = sensorService;
    this.config = config;
    this.count = 0;
  }

  async setup() {}

  async poll() {
    this.count += 1;
    await this.sensorService.dispatch(
      'examples.polling_event',
      { count: this.count, polled_at: new Date().toISOString() },
      `poll-${this.count}`,
    );
  }

  async cleanup() {}

  async add_trigger() {}
  async update_trigger() {}
  async remove_trigger() {}
}
