"""One trapped system call as the handlers see it, and the ways to answer."""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from motte.libos.kernel import LibOS
    from motte.libos.process import Process


class Continue:
    """Let the kernel run the call as made. Only for calls whose arguments
    are plain values already checked (no pointer the caller could rewrite),
    or whose effect the kernel confines to the sandbox by itself (its own
    namespaces and root)."""


CONTINUE = Continue()


@dataclass
class InstallFd:
    """Install the library OS's `fd` into the caller as the call's result."""

    fd: int
    cloexec: bool


@dataclass
class Deferred:
    """Finish the call on a worker thread (it may block for long: a FIFO
    open waiting for its peer); the library OS meanwhile serves others.
    `work(still_wanted)`: a blocking wait inside it is interrupted by a
    signal from time to time and must end when `still_wanted()` says the
    caller is gone (killed), or the thread and its fds would stay for good."""

    work: Callable[[Callable[[], bool]], int | InstallFd]


class Call:
    __slots__ = ("os", "id", "tid", "proc", "nr", "args")

    def __init__(self, libos: LibOS, notif_id: int, tid: int, proc: Process, nr: int, args: tuple[int, ...]):
        self.os = libos
        self.id = notif_id
        self.tid = tid
        self.proc = proc
        self.nr = nr
        self.args = args

    def path(self, ptr: int) -> bytes:
        proc = self.proc
        mem = proc.mem if proc.mem is not None and not proc.mem_stale else proc.memory(self.os.host)
        return mem.read_cstr(ptr)

    def read(self, ptr: int, n: int) -> bytes:
        return self.proc.memory(self.os.host).read(ptr, n)

    def write(self, ptr: int, data: bytes) -> None:
        proc = self.proc
        mem = proc.mem if proc.mem is not None and not proc.mem_stale else proc.memory(self.os.host)
        mem.write(ptr, data)


def err(code: int) -> OSError:
    return OSError(code, errno.errorcode.get(code, str(code)))


def sint(v: int) -> int:
    """An int argument (32-bit, sign-extended), as the kernel reads it."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v
