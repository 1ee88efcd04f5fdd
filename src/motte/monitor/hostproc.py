"""The library OS's only window on host processes: /proc/PID of the
sandbox's own picoprocesses.

Every access first checks that PID lives in the sandbox's pid namespace, so a
library OS bug that computes a wrong pid reaches, at worst, another process
of the same sandbox, never a host process.
"""

from __future__ import annotations

import errno
import os

from motte.kernel import libc


class PicoprocessAccess:
    def __init__(self, pid1: int) -> None:
        self.pidns = os.stat(f"/proc/{pid1}/ns/pid").st_ino
        self._verified: set[int] = set()
        self._pidfds: dict[int, int] = {}

    def verify(self, tid: int) -> None:
        if tid in self._verified:
            return
        try:
            ino = os.stat(f"/proc/{tid}/ns/pid").st_ino
        except OSError:
            raise OSError(errno.ESRCH, f"no process {tid}") from None
        if ino != self.pidns:
            raise PermissionError(errno.EPERM, f"process {tid} is not in the sandbox")
        if len(self._verified) > 65536:
            self._verified.clear()
        self._verified.add(tid)

    def forget(self, tid: int) -> None:
        self._verified.discard(tid)
        pidfd = self._pidfds.pop(tid, None)
        if pidfd is not None:
            os.close(pidfd)

    def status(self, tid: int) -> dict[str, str]:
        self.verify(tid)
        out = {}
        # A process names itself (PR_SET_NAME): any bytes may stand there.
        with open(f"/proc/{tid}/status", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
        return out

    def read(self, tid: int, name: str) -> bytes:
        """A file under /proc/TID (stat, cmdline, maps, environ, ...)."""
        self.verify(tid)
        with open(f"/proc/{tid}/{name}", "rb") as f:
            return f.read()

    def open_mem(self, tid: int) -> int:
        self.verify(tid)
        return os.open(f"/proc/{tid}/mem", os.O_RDWR | os.O_CLOEXEC)

    def readlink(self, tid: int, name: str) -> str:
        """cwd, exe, root or fd/N: the path in the sandbox's own mount tree."""
        self.verify(tid)
        return os.readlink(f"/proc/{tid}/{name}")

    def listdir(self, tid: int, name: str) -> list[str]:
        self.verify(tid)
        return os.listdir(f"/proc/{tid}/{name}")

    def exists(self, tid: int) -> bool:
        return os.path.exists(f"/proc/{tid}")

    def getfd(self, pid: int, fd: int) -> int:
        """A copy of the picoprocess's fd (pidfd_getfd). `pid` is a thread-group
        leader; its pidfd is kept, since it names that process and no other
        even once the number is reused."""
        pidfd = self._pidfds.get(pid)
        if pidfd is None:
            self.verify(pid)
            pidfd = self._pidfds[pid] = libc.pidfd_open(pid)
            if len(self._pidfds) > 4096:
                self._close_pidfds(keep=pid)
        try:
            return libc.pidfd_getfd(pidfd, fd)
        except ProcessLookupError:
            os.close(self._pidfds.pop(pid))
            raise

    def _close_pidfds(self, keep: int) -> None:
        for p in [p for p in self._pidfds if p != keep]:
            os.close(self._pidfds.pop(p))

    def signal(self, tid: int, sig: int) -> None:
        self.verify(tid)
        pidfd = libc.pidfd_open(tid)
        try:
            libc.pidfd_send_signal(pidfd, sig)
        finally:
            os.close(pidfd)


# Machine-wide counters and identifiers a program sees on any Linux host;
# they name no host file, process or user, so /proc shows them as they are.
MACHINE_FILES = frozenset(
    {
        "/proc/loadavg",
        "/proc/meminfo",
        "/proc/cpuinfo",
        "/proc/stat",
        "/proc/sys/kernel/random/boot_id",
        "/proc/sys/kernel/random/uuid",
    }
)


def machine_file(path: str) -> bytes:
    if path not in MACHINE_FILES:
        raise PermissionError(errno.EACCES, f"{path} is not a machine-wide file")
    with open(path, "rb") as f:
        return f.read()


def reopen(fd: int, flags: int) -> int:
    """Open again the file one of the library OS's own fds refers to (an
    O_PATH fd it resolved and checked inside the sandbox's root): the same
    file, whatever happened to its name since."""
    return os.open(f"/proc/self/fd/{fd}", flags | os.O_CLOEXEC)


def chmod_fd(fd: int, mode: int) -> None:
    """chmod the file one of the library OS's own O_PATH fds refers to."""
    os.chmod(f"/proc/self/fd/{fd}", mode)
