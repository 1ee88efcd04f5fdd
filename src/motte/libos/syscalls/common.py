"""Helpers the handler families share."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

from motte.libos.call import Call
from motte.monitor.hostproc import reopen  # noqa: F401 - re-exported for the handlers

O_ACCMODE = 3


def copy_fd(call: Call, fd: int, host_pid: int | None = None) -> int:
    """A library-OS copy of fd `fd` of the caller (or of process `host_pid`,
    a thread-group leader: pidfd_open takes no other thread, and threads
    share their process's fd table); EBADF as the kernel would say it."""
    if fd < 0:
        raise OSError(errno.EBADF, "bad fd")
    try:
        return call.os.host.getfd(call.proc.host_pid if host_pid is None else host_pid, fd)
    except OSError as e:
        raise OSError(errno.EBADF if e.errno in (errno.EBADF, errno.ENOENT) else e.errno, "bad fd") from None


@contextlib.contextmanager
def held_fd(call: Call, fd: int) -> Iterator[int]:
    """A library-OS copy of the caller's fd `fd`, closed afterwards."""
    ours = copy_fd(call, fd)
    try:
        yield ours
    finally:
        os.close(ours)


def put_u32s(call: Call, ptrs: tuple[int, ...], values: tuple[int, ...]) -> None:
    for p, v in zip(ptrs, values, strict=True):
        if p:
            call.write(p, (v & 0xFFFFFFFF).to_bytes(4, "little"))
