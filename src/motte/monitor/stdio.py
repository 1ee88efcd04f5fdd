"""The host streams motte was given as stdin, stdout and stderr.

Pipes, sockets and terminals pass to the program as they are: a stream only
goes forward. A host *file* does not: a descriptor of it can be seeked,
pwritten, truncated, punched and have O_APPEND cleared, so a program
holding `>> log` could rewrite what the log held before the sandbox
started, which lies outside anything the manifest grants. Such a file is
replaced by a pipe and motte copies between the two: the program can only
add to the file's end (or read what comes next), as through a shell pipe.
The copy is read/write through one buffer, not splice(2): splice takes a
file's position without the lock write(2) holds, so two streams sharing one
open file (`> log 2>&1`) would write over each other. Streams that share an
open file share one pipe, which also keeps their order.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import sys
import threading
from dataclasses import dataclass, field

from motte.kernel import libc

_CHUNK = 1 << 20


def reserve_closed() -> list[int]:
    """Which of fds 0-2 motte was started without; each gets /dev/null, so
    that no pipe or file motte opens lands there (the program would take it
    for its stdin, stdout or stderr)."""
    closed = []
    for num in (0, 1, 2):
        try:
            fcntl.fcntl(num, fcntl.F_GETFD)
        except OSError:
            closed.append(num)
    for num in closed:
        fd = os.open(os.devnull, os.O_RDWR)
        if fd != num:  # a lower one was taken meanwhile: put it where it belongs
            os.dup2(fd, num)
            os.close(fd)
    return closed


def _same_open_file(a: int, b: int) -> bool:
    """Whether motte's fds a and b are one open file (`> log 2>&1`)."""
    pid = os.getpid()
    try:
        return libc.kcmp_same(pid, pid, libc.KCMP_FILE, a, b)
    except OSError:
        sa, sb = os.fstat(a), os.fstat(b)  # no kcmp: the same file is the best guess
        return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _needs_relay(fd: int) -> bool:
    """A host regular file or block device the program could write to."""
    try:
        s = os.fstat(fd)
        acc = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except OSError:
        return False
    return (stat.S_ISREG(s.st_mode) or stat.S_ISBLK(s.st_mode)) and acc != os.O_RDONLY


@dataclass
class Relay:
    """One host stream and the pipe that stands for it in the sandbox."""

    num: int  # 0, 1 or 2: motte's own fd of the host stream, and the program's
    ours: int  # our end of the pipe
    theirs: int  # the end the program gets as `num`
    error: str = ""


@dataclass
class StdioRelays:
    relays: list[Relay] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    shared: dict[int, int] = field(default_factory=dict)  # stdio number -> the one whose pipe it takes
    closed: list[int] = field(default_factory=list)  # stdio numbers motte was started without

    @classmethod
    def plan(cls) -> StdioRelays:
        """Pipes for those of fds 0-2 that are writable host files."""
        out = cls()
        out.closed = reserve_closed()
        for num in (0, 1, 2):
            if num in out.closed:
                continue
            if not _needs_relay(num):
                continue
            same = next((r.num for r in out.relays if r.num and num and _same_open_file(r.num, num)), None)
            if same is not None:
                out.shared[num] = same
                continue
            r, w = os.pipe2(os.O_CLOEXEC)
            out.relays.append(Relay(num, w, r) if num == 0 else Relay(num, r, w))
        return out

    def child_fds(self) -> dict[int, int]:
        """{stdio number: fd} for the sandbox's first process to dup2, -1 for
        one to close just before the program starts (as motte had it)."""
        fds = {r.num: r.theirs for r in self.relays}
        for num, same in self.shared.items():
            fds[num] = fds[same]
        for num in self.closed:
            fds[num] = -1
        return fds

    def all_fds(self) -> set[int]:
        return {fd for r in self.relays for fd in (r.ours, r.theirs)}

    def start(self) -> None:
        """Once the sandbox holds its ends: close ours of theirs, copy."""
        for r in self.relays:
            os.close(r.theirs)
            r.theirs = -1
            t = threading.Thread(target=self._copy, args=(r,), name=f"motte-stdio-{r.num}", daemon=True)
            t.start()
            self.threads.append(t)

    def finish(self, timeout: float = 60.0) -> None:
        """The sandbox is gone (its ends closed): wait for the copies to end,
        then say which failed."""
        for t in self.threads:
            t.join(timeout)
        for r in self.relays:
            if r.error:
                print(f"motte: {('stdin', 'stdout', 'stderr')[r.num]}: {r.error}", file=sys.stderr)

    def close(self) -> None:
        for r in self.relays:
            for fd in (r.ours, r.theirs):
                if fd >= 0:
                    os.close(fd)
            r.ours = r.theirs = -1

    @staticmethod
    def _copy(r: Relay) -> None:
        src, dst = (r.num, r.ours) if r.num == 0 else (r.ours, r.num)
        buf = bytearray(_CHUNK)
        whole = memoryview(buf)
        try:
            while True:
                n = os.readv(src, [buf])
                if not n:
                    break
                view = whole[:n]
                while view:
                    view = view[os.write(dst, view) :]
        except BrokenPipeError:
            pass  # stdin's reader ended: as a shell pipe, nothing more to say
        except OSError as e:
            r.error = e.strerror or str(e)
        finally:
            # A write error (ENOSPC, EFBIG) cannot reach the program as that
            # error: its next write fails with EPIPE (SIGPIPE) instead of
            # filling a pipe nobody empties, and motte says why.
            with contextlib.suppress(OSError):
                os.close(r.ours)
            r.ours = -1
