"""The library OS's only window on host processes: /proc/PID of the
sandbox's own picoprocesses.

Every access first checks that PID lives in the sandbox's pid namespace, so a
library OS bug that computes a wrong pid reaches, at worst, another process
of the same sandbox, never a host process.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from motte.kernel import libc

AT_FDCWD = -100


class PicoprocessAccess:
    def __init__(self, pid1: int) -> None:
        self.pid1 = pid1
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

    def sandbox_pids(self) -> list[int]:
        """Every process of the sandbox (host pids), from pid 1 down: an
        orphan is re-parented to pid 1, so none is missed."""
        out: list[int] = []
        todo = [self.pid1]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                tasks = os.listdir(f"/proc/{p}/task")
            except OSError:
                continue
            for t in tasks:
                try:
                    with open(f"/proc/{p}/task/{t}/children", "rb") as f:
                        todo.extend(int(c) for c in f.read().split())
                except OSError:
                    continue
        return out

    def _held_in_vfork(self, pid: int) -> bool:
        """A single-threaded process stopped in vfork (or clone/clone3 with
        CLONE_VFORK) until its child execs or exits: it shares memory with
        that child (a shell's or posix_spawn's way) but cannot touch it."""
        try:
            if int(self.status(pid).get("Threads", "0")) != 1:
                return False
            call = self.read(pid, "syscall").split(maxsplit=1)[0]
            state = self.read(pid, "stat").rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError, ValueError):
            return False
        return state == b"D" and call in (b"56", b"58", b"435")  # clone, vfork, clone3

    def sole_writer(self, pid: int, addr: int, length: int, immutable: Callable[[str, int], bool]) -> bool:
        """Whether nothing but process `pid` itself (single-threaded, blocked
        in a trapped call) could change the `length` bytes at `addr` in its
        memory, its fd table or its cwd before the kernel reads them again
        (a call the library OS answers by letting the kernel run it, which
        re-reads its arguments). No: another thread; another process of the
        sandbox sharing its memory, fds or cwd (CLONE_VM, CLONE_FILES,
        CLONE_FS, whatever its place in the tree); bytes in a shared mapping,
        or in a file's private mapping (the file may still change under pages
        not yet copied) unless `immutable(path, inode)` says no one in the
        sandbox can write that file (a read-only mount), or it is the program
        itself, which the kernel keeps from being written while it runs."""
        status = self.status(pid)
        if int(status.get("Threads", "0")) != 1:
            return False
        parent = int(status.get("PPid", "0"))
        for other in self.sandbox_pids():
            # A sharer is harmless only as the caller's own vfork parent: held
            # until this very exec. (One further up a chain of vforks wakes
            # as soon as its child is killed.)
            if other != pid and _shares(pid, other) and not (other == parent and self._held_in_vfork(other)):
                return False
        if not length:
            return True  # only the fd table (fchdir, fexecve's fd) was at stake
        try:
            exe_ino = os.stat(f"/proc/{pid}/exe").st_ino
        except OSError:
            exe_ino = -1
        end = addr + max(length, 1)
        for lo, hi, perms, inode, name in parse_maps(self.read(pid, "maps")):
            if hi <= addr or lo >= end:
                continue
            if perms[3:4] != b"p":  # shared
                return False
            if (
                inode
                and inode != exe_ino
                and not (name.startswith(b"/") and immutable(name.decode("utf-8", "surrogateescape"), inode))
            ):
                return False
            addr = hi  # the rest must lie in the next mappings
            if addr >= end:
                return True
        return False

    def read(self, tid: int, name: str) -> bytes:
        """A file under /proc/TID (stat, cmdline, maps, environ, ...)."""
        self.verify(tid)
        with open(f"/proc/{tid}/{name}", "rb") as f:
            return f.read()

    def open_mem(self, tid: int) -> int:
        self.verify(tid)
        return os.open(f"/proc/{tid}/mem", os.O_RDWR | os.O_CLOEXEC)

    def open_maps(self, tid: int) -> int:
        """/proc/TID/maps, read again from the start on each use (the fd
        names the process, not its pid number, so a reused pid cannot
        swap in another)."""
        self.verify(tid)
        return os.open(f"/proc/{tid}/maps", os.O_RDONLY | os.O_CLOEXEC)

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


def reopen_waiting(fd: int, flags: int, keep_waiting: Callable[[], bool]) -> int:
    """`reopen` for an open that may wait long (a FIFO's for its peer),
    on a thread another may interrupt with a signal: each EINTR asks
    `keep_waiting` whether to go on (CPython's own open would retry
    regardless)."""
    path = f"/proc/self/fd/{fd}".encode()
    while True:
        try:
            return libc.syscall("openat", AT_FDCWD, path, flags | os.O_CLOEXEC, 0)
        except InterruptedError:
            if not keep_waiting():
                raise


def _shares(a: int, b: int) -> bool:
    """Whether processes a and b share their memory, fd table or cwd."""
    for kind in (libc.KCMP_VM, libc.KCMP_FILES, libc.KCMP_FS):
        try:
            if libc.kcmp_same(a, b, kind):
                return True
        except OSError:
            return True  # cannot tell: assume the worst
    return False


def parse_maps(text: bytes) -> list[tuple[int, int, bytes, int, bytes]]:
    """The mappings of a /proc/PID/maps text: (start, end, permissions such
    as b"rw-p", inode, path or b"")."""
    out = []
    for line in text.splitlines():
        fields = line.split(maxsplit=5)
        lo, _, hi = fields[0].partition(b"-")
        out.append((int(lo, 16), int(hi, 16), fields[1], int(fields[4]), fields[5] if len(fields) > 5 else b""))
    return out


def setxattr_fd(fd: int, name: bytes, value: bytes, flags: int) -> None:
    """setxattr on the file one of the library OS's own fds refers to."""
    os.setxattr(f"/proc/self/fd/{fd}", name, value, flags)


def getxattr_fd(fd: int, name: bytes) -> bytes:
    return os.getxattr(f"/proc/self/fd/{fd}", name)


def listxattr_fd(fd: int) -> list[bytes]:
    return [n.encode("utf-8", "surrogateescape") for n in os.listxattr(f"/proc/self/fd/{fd}")]


def removexattr_fd(fd: int, name: bytes) -> None:
    os.removexattr(f"/proc/self/fd/{fd}", name)


def chmod_fd(fd: int, mode: int) -> None:
    """chmod the file one of the library OS's own O_PATH fds refers to."""
    os.chmod(f"/proc/self/fd/{fd}", mode)
