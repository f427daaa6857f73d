/*
 * Python's own yaql (with orquesta) as a test oracle. The venv lives in <repo>/.cache/python-oracle
 * and is created once (`python3 -m venv`, `pip install yaql orquesta`), then reused.
 * One python process evaluates a whole corpus: requests go in as JSON lines, answers come back
 * as JSON lines.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withCacheLock } from './cache-lock.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ORACLE_VENV = join(REPO, '.cache', 'python-oracle');
const VENV_PYTHON = join(ORACLE_VENV, 'bin', 'python');

/** True when a python3 interpreter is on PATH. */
export function pythonAvailable(): boolean {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

function run(
  cmd: string,
  args: string[],
  input?: string,
  timeoutMs = 600_000,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise({ stdout, stderr });
      else
        reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
    });
    child.stdin.end(input ?? '');
  });
}

let ready: Promise<string> | undefined;

/** Creates the venv with yaql and orquesta if needed; resolves to its python executable. */
export function ensureOracle(): Promise<string> {
  const installed = (): boolean =>
    existsSync(VENV_PYTHON) &&
    spawnSync(VENV_PYTHON, ['-c', 'import yaql, orquesta.expressions.yql'], { encoding: 'utf8' }).status ===
      0;
  ready ??= (async () => {
    if (installed()) return VENV_PYTHON;
    // Another test file (in another fork) may be installing it right now: wait, then re-check.
    return withCacheLock(ORACLE_VENV, async () => {
      if (installed()) return VENV_PYTHON;
      mkdirSync(dirname(ORACLE_VENV), { recursive: true });
      if (!existsSync(VENV_PYTHON)) await run('python3', ['-m', 'venv', ORACLE_VENV]);
      await run(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', 'yaql', 'orquesta']);
      return VENV_PYTHON;
    });
  })();
  return ready;
}

/** Runs a python script in the oracle venv with `input` as JSON on stdin; returns its stdout parsed as JSON. */
export async function runPythonOracle(script: string, input: unknown): Promise<unknown> {
  const python = await ensureOracle();
  const { stdout } = await run(python, ['-c', script], JSON.stringify(input));
  return JSON.parse(stdout) as unknown;
}

// Evaluates like orquesta's YAQLEvaluator: its engine, its root context (standard library plus
// orquesta's functions such as ctx()), contextualize(data) for __vars, generators listed; `$` is
// bound to the data too. Sets come back as {"$set": [...]}, other non-JSON values as {"$repr": type}.
const YAQL_BATCH_SCRIPT = String.raw`
import inspect, json, sys
import yaql.language.utils as yaql_utils
from orquesta.expressions.yql import YAQLEvaluator

def encode(value):
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v) for v in value]}
    if isinstance(value, yaql_utils.MappingType):
        return {(k if isinstance(k, str) else json.dumps(k)): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, float) and value != value:
        return {"$nan": True}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return {"$repr": type(value).__name__}

for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    out = {"id": req["id"]}
    try:
        data = req.get("data") or {}
        ctx = YAQLEvaluator.contextualize(data)
        result = YAQLEvaluator._engine(req["expr"]).evaluate(data=data, context=ctx)
        if inspect.isgenerator(result):
            result = list(result)
        out["ok"] = True
        out["value"] = encode(result)
    except Exception as e:
        out["ok"] = False
        out["error"] = "%s: %s" % (type(e).__name__, e)
    sys.stdout.write(json.dumps(out) + "\n")
`;

export interface OracleRequest {
  id: string;
  expr: string;
  data?: unknown;
}
export type OracleAnswer =
  { id: string; ok: true; value: unknown } | { id: string; ok: false; error: string };

/** Evaluates many YAQL expressions in one python process. */
export async function evaluateYaqlWithOracle(requests: OracleRequest[]): Promise<Map<string, OracleAnswer>> {
  const python = await ensureOracle();
  const input = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const { stdout } = await run(python, ['-c', YAQL_BATCH_SCRIPT], input);
  const answers = new Map<string, OracleAnswer>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const a = JSON.parse(line) as OracleAnswer;
    answers.set(a.id, a);
  }
  return answers;
}
