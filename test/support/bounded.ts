import { execFile } from 'node:child_process';
import { ROOT } from './service-process.js';

/**
 * Runs an ES module snippet (imports relative to the repository root, TypeScript allowed) in a
 * child process that is killed after `timeoutMs`, and returns what it printed. For tests of code
 * that, when it regresses, would not fail but hang: a catastrophic regular expression holds the
 * thread, so a test in-process could never time out. `guard`: with the service's V8 regex flag.
 *
 * Asynchronous only: a child that runs for tens of seconds under spawnSync starves vitest's
 * worker RPC ("Timeout calling onTaskUpdate", an unhandled error), and a test's timeout should
 * exceed `timeoutMs` so that the child's bound, not vitest's, decides.
 */
export function runBoundedAsync(code: string, timeoutMs = 60_000, guard = true): Promise<string> {
  const prelude = guard
    ? "import { guardRegexBacktracking } from './src/service/regex-guard.ts'; guardRegexBacktracking();\n"
    : '';
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', prelude + code],
      { cwd: ROOT, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed)
          reject(new Error(`still running after ${timeoutMs} ms (killed with ${String(err.signal)})`));
        else if (err) reject(new Error(`exited ${String(err.code)}: ${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}
