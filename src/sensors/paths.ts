import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonShimDir } from '../runners/index.js';

/**
 * The sensor host's non-TypeScript assets (js-host.mjs, the Python wrapper and shim) are read from
 * the source tree: tsc does not copy them into dist/. From src/sensors (tests) they sit next to
 * this module; from dist/src/sensors they are three levels up, under src/sensors.
 */
function assetsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [here, path.resolve(here, '..', '..', '..', 'src', 'sensors')];
  return candidates.find((d) => existsSync(path.join(d, 'js-host.mjs'))) ?? here;
}

export const sensorJsHostPath = () => path.join(assetsDir(), 'js-host.mjs');
export const sensorPythonWrapperPath = () => path.join(assetsDir(), 'python', 'wrapper.py');
/**
 * A Python sensor's shim packages: its own (st2reactor, squall_sensor), then the action shim's
 * (st2common, squall_process), which it shares: the channel, datastore calls and monkey_patch.
 */
export const sensorPythonShimDirs = () => [path.join(assetsDir(), 'python', 'shim'), pythonShimDir()];
