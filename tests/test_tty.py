"""`motte run -it -- bash` driven through a pseudo-terminal, as a person would:
a prompt, a command, Ctrl-C of a running command, the terminal's name, exit."""

from __future__ import annotations

import os
import pty
import select
import shutil
import sys
import time

MOTTE = shutil.which("motte") or os.path.join(os.path.dirname(sys.executable), "motte")


def _read_until(fd: int, needle: bytes, timeout: float = 10.0) -> bytes:
    out = b""
    end = time.monotonic() + timeout
    while needle not in out and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def _wait_exit(pid: int, timeout: float) -> int | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    return None


def test_interactive_bash_under_a_pty() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execv(MOTTE, [MOTTE, "run", "-it", "--", "bash", "--norc"])
    status = None
    try:
        assert _read_until(fd, b"$ ").endswith(b"$ ")
        os.write(fd, b"echo hello $((6*7))\r")
        out = _read_until(fd, b"hello 42\r\n")
        out += _read_until(fd, b"$ ")
        assert b"hello 42" in out and out.endswith(b"$ ")
        os.write(fd, b"sleep 30; echo not-interrupted\r")
        _read_until(fd, b"not-interrupted\r\n")  # the terminal's echo of the line
        time.sleep(1.0)
        t0 = time.monotonic()
        os.write(fd, b"\x03")
        out = _read_until(fd, b"$ ")
        assert out.endswith(b"$ ") and b"not-interrupted\r\n" not in out, out
        assert time.monotonic() - t0 < 5
        os.write(fd, b"tty; echo pid=$$; echo via-dev-tty > /dev/tty\r")
        out = _read_until(fd, b"via-dev-tty\r\n")
        assert b"/dev/pts/0" in out and b"pid=1" in out, out
        os.write(fd, b"exit 5\r")
        status = _wait_exit(pid, 10)
    finally:
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 5
