import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRunner, parseHosts, type HostResult } from '../../../src/runners/index.js';
import { fakeContext } from '../../support/runner-context.js';
import { SSHD_PATH, sshdAvailable, startSshd, type TestSshd } from '../../support/sshd.js';

if (!sshdAvailable && process.env.SQUALL_REQUIRE_ALL === '1') {
  throw new Error(`${SSHD_PATH} (openssh-server) is required with SQUALL_REQUIRE_ALL=1 but is missing`);
}

const remoteCmd = getRunner('remote-shell-cmd')!;
const remoteScript = getRunner('remote-shell-script')!;

describe('parseHosts', () => {
  it('splits st2 host lists with ports, IPv6 and duplicates', () => {
    expect(parseHosts(' a, b:2222 ,[::1]:23,a,', 22)).toEqual([
      { label: 'a', host: 'a', port: 22 },
      { label: 'b:2222', host: 'b', port: 2222 },
      { label: '[::1]:23', host: '::1', port: 23 },
    ]);
  });
});

describe.skipIf(!sshdAvailable)(
  sshdAvailable
    ? 'remote-shell runners against a real OpenSSH sshd'
    : `remote-shell runners (SKIPPED: ${SSHD_PATH} not installed)`,
  () => {
    let sshd: TestSshd;
    let hosts: string;

    beforeAll(async () => {
      sshd = await startSshd();
      hosts = `127.0.0.1:${sshd.port},localhost:${sshd.port}`;
    });
    afterAll(async () => {
      await sshd?.stop();
    });

    it('runs a command on two hosts and returns one result per host', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts,
          username: sshd.username,
          private_key: sshd.privateKey,
          cmd: 'echo "$GREETING from $(pwd)"; echo warn >&2',
          env: { GREETING: 'hi there' },
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('succeeded');
      const expected = {
        succeeded: true,
        failed: false,
        return_code: 0,
        stdout: 'hi there from /tmp',
        stderr: 'warn',
      };
      expect(res.result).toEqual({
        [`127.0.0.1:${sshd.port}`]: expected,
        [`localhost:${sshd.port}`]: expected,
      });
      expect(
        ctx.output
          .filter((o) => o.type === 'stdout')
          .map((o) => o.data)
          .join(''),
      ).toBe('hi there from /tmp\nhi there from /tmp\n');
    });

    it('runs in parallel with a key file path and reports each exit code', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts,
          parallel: true,
          username: sshd.username,
          private_key: sshd.privateKeyPath,
          cwd: sshd.dir,
          cmd: 'test -f authorized_keys && exit 4',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('failed');
      for (const r of Object.values(res.result as Record<string, HostResult>))
        expect(r).toMatchObject({ failed: true, succeeded: false, return_code: 4 });
    });

    it('logs in with a passphrase-protected key', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts: `127.0.0.1:${sshd.port}`,
          username: sshd.username,
          private_key: sshd.encryptedKey,
          passphrase: sshd.passphrase,
          cmd: 'echo \'{"ok": true}\'',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('succeeded');
      expect((res.result as Record<string, HostResult>)[`127.0.0.1:${sshd.port}`].stdout).toEqual({
        ok: true,
      });
    });

    it('gives a clean per-host error for a key the server does not accept', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts,
          username: sshd.username,
          private_key: sshd.unauthorizedKey,
          cmd: 'echo never',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('failed');
      const results = res.result as Record<string, HostResult>;
      expect(Object.keys(results)).toEqual([`127.0.0.1:${sshd.port}`, `localhost:${sshd.port}`]);
      for (const [label, r] of Object.entries(results)) {
        expect(r).toMatchObject({ failed: true, succeeded: false, return_code: 255 });
        expect(r.error).toContain(`Failed to connect to ${label}`);
        expect(r.error).toMatch(/authentication/i);
      }
    });

    it('reports an unreachable host next to a working one', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts: `127.0.0.1:${sshd.port},127.0.0.1:1`,
          username: sshd.username,
          private_key: sshd.privateKey,
          cmd: 'echo up',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('failed');
      const results = res.result as Record<string, HostResult>;
      expect(results[`127.0.0.1:${sshd.port}`]).toMatchObject({ succeeded: true, stdout: 'up' });
      expect(results['127.0.0.1:1']).toMatchObject({
        failed: true,
        return_code: 255,
        error: expect.stringContaining('ECONNREFUSED'),
      });
    });

    it('times out per host with st2 status and message', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts: `127.0.0.1:${sshd.port}`,
          username: sshd.username,
          private_key: sshd.privateKey,
          timeout: 1,
          cmd: 'sleep 30',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('timeout');
      expect((res.result as Record<string, HostResult>)[`127.0.0.1:${sshd.port}`]).toMatchObject({
        failed: true,
        timeout: true,
        return_code: -9,
        error: 'Action failed to complete in 1 seconds',
      });
    }, 15_000);

    it('is canceled through the abort signal', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts: `127.0.0.1:${sshd.port}`,
          username: sshd.username,
          private_key: sshd.privateKey,
          cmd: 'echo started; sleep 30',
        },
      });
      const running = remoteCmd.run(ctx);
      for (let i = 0; i < 100 && !ctx.output.some((o) => o.data.includes('started')); i++)
        await new Promise((r) => setTimeout(r, 50));
      ctx.abort.abort();
      const res = await running;
      expect(res.status).toBe('canceled');
    }, 15_000);

    it('reaches the hosts through a bastion host', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts: `localhost:${sshd.port}`,
          bastion_host: `127.0.0.1:${sshd.port}`,
          username: sshd.username,
          private_key: sshd.privateKey,
          cmd: 'echo "via $SSH_CLIENT"',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('succeeded');
      expect((res.result as Record<string, HostResult>)[`localhost:${sshd.port}`].stdout).toMatch(
        /^via 127\.0\.0\.1 /,
      );
    });

    it("fails the whole run with st2's top-level shape when the bastion refuses the key", async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-cmd',
        runnerParameters: {
          hosts,
          bastion_host: `127.0.0.1:${sshd.port}`,
          username: sshd.username,
          private_key: sshd.unauthorizedKey,
          cmd: 'echo never',
        },
      });
      const res = await remoteCmd.run(ctx);
      expect(res.status).toBe('failed');
      expect(res.result).toMatchObject({
        failed: true,
        succeeded: false,
        return_code: 255,
        error: expect.stringContaining('bastion host'),
      });
    });

    it('copies a script by SFTP to dir/<execution id>, runs it with arguments and removes it', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-script',
        entry_point: 'remote.sh',
        parameters: { who: { type: 'string', position: 0 }, loud: { type: 'boolean' } },
        runnerParameters: { hosts, username: sshd.username, private_key: sshd.privateKey, dir: sshd.dir },
        actionParameters: { who: 'the world', loud: true },
      });
      mkdirSync(path.join(ctx.action.packDir, 'actions'), { recursive: true });
      const script = path.join(ctx.action.packDir, 'actions', 'remote.sh');
      writeFileSync(script, '#!/bin/bash\necho "$0|$1|$2"\n');
      chmodSync(script, 0o644);
      const res = await remoteScript.run(ctx);
      expect(res.status).toBe('succeeded');
      const remotePath = path.join(sshd.dir, ctx.executionId, 'remote.sh');
      for (const r of Object.values(res.result as Record<string, HostResult>))
        expect(r.stdout).toBe(`${remotePath}|--loud|the world`);
      expect(existsSync(path.join(sshd.dir, ctx.executionId))).toBe(false);
    });

    it('copies the lib directory beside the script along with it, as st2 does', async () => {
      const ctx = fakeContext({
        runner: 'remote-shell-script',
        entry_point: 'scripts/greet.sh',
        runnerParameters: { hosts, username: sshd.username, private_key: sshd.privateKey, dir: sshd.dir },
      });
      const scripts = path.join(ctx.action.packDir, 'actions', 'scripts');
      mkdirSync(path.join(scripts, 'lib', 'words'), { recursive: true });
      writeFileSync(path.join(scripts, 'lib', 'words', 'greeting.txt'), 'hello from lib\n');
      writeFileSync(
        path.join(scripts, 'greet.sh'),
        '#!/bin/bash\ncat "$(dirname "$0")/lib/words/greeting.txt"\n',
      );
      const res = await remoteScript.run(ctx);
      expect(res.status).toBe('succeeded');
      for (const r of Object.values(res.result as Record<string, HostResult>))
        expect(r.stdout).toBe('hello from lib');
      expect(existsSync(path.join(sshd.dir, ctx.executionId))).toBe(false);
    });
  },
);
