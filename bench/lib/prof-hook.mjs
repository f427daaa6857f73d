// Preloaded (`node --import`) into a Squall child by bench/profile-steady.mjs: SIGUSR2 starts a
// CPU profile of the main thread, the next SIGUSR2 writes it to $SQUALL_PROF_OUT, so the profile
// holds only the steady state (no start-up, no warm-up) that --cpu-prof cannot leave out.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
let running = false;
const post = (method, params) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
  );
process.on('SIGUSR2', () => {
  void (async () => {
    if (!running) {
      running = true;
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
      process.stderr.write('prof-hook: started\n');
    } else {
      running = false;
      const { profile } = await post('Profiler.stop');
      writeFileSync(process.env.SQUALL_PROF_OUT, JSON.stringify(profile));
      process.stderr.write('prof-hook: written\n');
    }
  })();
});
