import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

export const SSHD_PATH = '/usr/sbin/sshd';
export const sshdAvailable = existsSync(SSHD_PATH) && existsSync('/usr/bin/ssh-keygen');

export interface TestSshd {
  port: number;
  /** The user the daemon accepts (the current user). */
  username: string;
  dir: string;
  /** Authorized private key, OpenSSH format, no passphrase. */
  privateKey: string;
  privateKeyPath: string;
  /** Authorized private key protected by `passphrase`. */
  encryptedKey: string;
  passphrase: string;
  /** A valid key that is NOT in authorized_keys. */
  unauthorizedKey: string;
  stop(): Promise<void>;
}

function keygen(file: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'squall-test', '-f', file]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Starts a real OpenSSH daemon on 127.0.0.1 with generated host and user keys, accepting the
 * current user by public key (`UsePAM no`, `StrictModes no`), with the internal SFTP server.
 * On a free port unless `port` is given (scripts/st2-self-check needs 22, where tests' chains SSH).
 */
export async function startSshd(options: { port?: number } = {}): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'squall-sshd-'));
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'user_key'));
  const passphrase = 'correct horse';
  keygen(path.join(dir, 'user_key_enc'), passphrase);
  keygen(path.join(dir, 'stranger_key'));
  writeFileSync(
    path.join(dir, 'authorized_keys'),
    readFileSync(path.join(dir, 'user_key.pub'), 'utf8') +
      readFileSync(path.join(dir, 'user_key_enc.pub'), 'utf8'),
    { mode: 0o600 },
  );
  // OpenSSH refuses to start without its privilege separation directory.
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const port = options.port ?? (await freePort());
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin yes',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );

  const proc: ChildProcess = spawn(SSHD_PATH, ['-D', '-e', '-f', config, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  let exited = false;
  proc.on('exit', () => (exited = true));

  for (let i = 0; i < 100 && !exited; i++) {
    if (await canConnect(port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited || !(await canConnect(port))) {
    proc.kill('SIGKILL');
    throw new Error(`sshd did not start on port ${port}: ${stderr}`);
  }

  return {
    port,
    username: userInfo().username,
    dir,
    privateKey: readFileSync(path.join(dir, 'user_key'), 'utf8'),
    privateKeyPath: path.join(dir, 'user_key'),
    encryptedKey: readFileSync(path.join(dir, 'user_key_enc'), 'utf8'),
    passphrase,
    unauthorizedKey: readFileSync(path.join(dir, 'stranger_key'), 'utf8'),
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
