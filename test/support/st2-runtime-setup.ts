import { ensureSt2Runtime } from '../../src/runners/st2-runtime.js';

/**
 * Builds the st2 runtime site (six, yaml, eventlet, st2client…) once before the suites, so that the
 * first Python action of a test does not spend its timeout on `pip install`. Cached across runs.
 */
export default async function setup(): Promise<void> {
  const site = await ensureSt2Runtime({
    info: (_obj, msg) => process.stderr.write(`[st2-runtime] ${msg}\n`),
    warn: (obj, msg) => process.stderr.write(`[st2-runtime] ${msg}: ${JSON.stringify(obj)}\n`),
  });
  if (!site && process.env.SQUALL_REQUIRE_ALL === '1') {
    throw new Error(
      'the st2 runtime site could not be installed (SQUALL_REQUIRE_ALL=1); see the message above',
    );
  }
}
