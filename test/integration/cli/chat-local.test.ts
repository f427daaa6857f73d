import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';

/**
 * `squall chat --local` runs Squall in the terminal's own process with auth off: whoever types owns
 * it (its data directory, its port on 127.0.0.1). Its shell commands ran, but the built-in commands
 * refused the same person ("You're not linked … you act as "chatops"").
 */
it(
  'squall chat --local: the person at the terminal may use the built-in commands too',
  { timeout: 90_000 },
  async () => {
    const data = tempDir();
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/run.ts', 'chat', '--local', '--data-dir', data.dir, '--wait', '2000'],
        { cwd: ROOT, env: { ...process.env, SQUALL_LOG_LEVEL: 'error' }, stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.stdin.end('!key set greeting hello\n!key get greeting\n');
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(code, stderr).toBe(0);
      expect(stdout).not.toContain("You're not linked");
      expect(stdout).toContain('Set system key greeting.');
      expect(stdout).toContain('greeting = hello');
    } finally {
      data.cleanup();
    }
  },
);
