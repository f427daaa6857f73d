"""``st2common.util.shell``: quoting and running commands as st2 does."""

import shlex
import subprocess

__all__ = ["run_command", "quote_unix", "quote_windows"]


def quote_unix(value):
    return shlex.quote(str(value))


def quote_windows(value):
    return subprocess.list2cmdline([str(value)])


def run_command(cmd, stdin=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE, shell=False, cwd=None, env=None,
                timeout=60, preexec_func=None, kill_func=None, read_stdout_func=None, read_stderr_func=None,
                read_stdout_buffer=None, read_stderr_buffer=None, stdin_value=None, bufsize=0):
    """Returns ``(exit_code, stdout, stderr, timed_out)`` like st2's."""
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr, shell=shell, cwd=cwd, env=env,
                            preexec_fn=preexec_func)
    try:
        out, err = proc.communicate(input=stdin_value, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        (kill_func or (lambda p: p.kill()))(proc)
        out, err = proc.communicate()
        timed_out = True
    decode = lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")  # noqa: E731
    return proc.returncode if not timed_out else -9, decode(out), decode(err), timed_out
