/**
 * SQUALL_* variables that are not config keys: read by the CLI, by actions, by tests, benches and
 * tools. The mistyped-variable warning leaves them alone; one list, so a new one is added here.
 */
const NOT_CONFIG_NAMES = new Set([
  'SQUALL_API_KEY',
  'SQUALL_AUTH_TOKEN',
  'SQUALL_USER',
  'SQUALL_CONFIG',
  'SQUALL_EXECUTION_ID',
  'SQUALL_RUN_TOKEN',
  'SQUALL_PACK_INDEX_URL',
  'SQUALL_ST2_RUNTIME_DIR',
  'SQUALL_WRITE_TRANSCRIPTS',
  'SQUALL_RECORD_IMPORTS',
  'SQUALL_COUNT_CALLS_DIR',
  'SQUALL_CHROMIUM',
  'SQUALL_CHROMIUM_PATH',
  'SQUALL_REQUIRE_ALL',
  'SQUALL_HISTORY_SCALE',
  'SQUALL_FUZZ_PROTECTED_USERS',
]);

const NOT_CONFIG_PREFIXES = [
  'SQUALL_TEST_',
  'SQUALL_BENCH_',
  'SQUALL_PROF_',
  'SQUALL_KNOBS_',
  'SQUALL_RACE_',
  'SQUALL_SOAK_',
  'SQUALL_RANDOM_KILL_',
  'SQUALL_RELIABILITY_',
];

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/**
 * Set SQUALL_* variables that no config key reads but that look like one (under a config section's
 * prefix, or a couple of letters from a known variable), each with the closest known variable.
 */
export function mistypedEnvNames(
  env: NodeJS.ProcessEnv,
  known: string[],
): Array<{ name: string; closest: string }> {
  const knownSet = new Set(known);
  const sections = new Set(known.map((k) => k.split('_')[1]));
  const out: Array<{ name: string; closest: string }> = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('SQUALL_') || knownSet.has(name) || NOT_CONFIG_NAMES.has(name)) continue;
    if (NOT_CONFIG_PREFIXES.some((p) => name.startsWith(p))) continue;
    let closest = known[0];
    let best = Infinity;
    for (const k of known) {
      const d = editDistance(name, k);
      if (d < best) [best, closest] = [d, k];
    }
    if (sections.has(name.split('_')[1]) || best <= 2) out.push({ name, closest });
  }
  return out;
}
