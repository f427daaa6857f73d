"""``st2common.runners.paramiko_ssh.ParamikoSSHClient``: the SSH client st2 actions reuse."""

import paramiko

__all__ = ["ParamikoSSHClient"]


class ParamikoSSHClient(object):
    def __init__(self, hostname, port=22, username=None, password=None, bastion_host=None, key_files=None,
                 key_material=None, timeout=None, passphrase=None, handle_stdout_line_func=None,
                 handle_stderr_line_func=None):
        self.hostname = hostname
        self.port = port or 22
        self.username = username
        self.password = password
        self.key_files = key_files
        self.key_material = key_material
        self.timeout = timeout or 60
        self.passphrase = passphrase
        self.client = None

    def connect(self):
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        pkey = None
        if self.key_material:
            import io

            pkey = paramiko.RSAKey.from_private_key(io.StringIO(self.key_material), password=self.passphrase)
        client.connect(hostname=self.hostname, port=self.port, username=self.username, password=self.password,
                       key_filename=self.key_files, pkey=pkey, passphrase=self.passphrase, timeout=self.timeout,
                       allow_agent=not (self.password or self.key_material or self.key_files),
                       look_for_keys=not (self.password or self.key_material or self.key_files))
        self.client = client
        return True

    def run(self, cmd, timeout=None, call_line_handler_func=False):
        if self.client is None:
            self.connect()
        _, stdout, stderr = self.client.exec_command(cmd, timeout=timeout)
        out = stdout.read().decode("utf-8", "replace")
        err = stderr.read().decode("utf-8", "replace")
        return out, err, stdout.channel.recv_exit_status()

    def close(self):
        if self.client is not None:
            self.client.close()
            self.client = None
        return True
