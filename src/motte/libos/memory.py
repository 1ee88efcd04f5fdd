"""Reading and writing a picoprocess's memory.

Every pointer argument is copied once into the library OS and acted on from
that copy, so a second thread rewriting the memory after the check changes
nothing (no time-of-check/time-of-use window).
"""

from __future__ import annotations

import errno
import os

PAGE = 4096
PATH_MAX = 4096
USER_END = 1 << 47  # x86-64 user addresses lie below this


def _bad(addr: int, n: int) -> bool:
    return addr == 0 or addr >= USER_END or addr + n > USER_END


class Memory:
    """/proc/PID/mem of one process (any thread's tid works: one mm)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def read(self, addr: int, n: int) -> bytes:
        if n == 0:
            return b""
        if _bad(addr, n):
            raise OSError(errno.EFAULT, "bad address")
        try:
            data = os.pread(self.fd, n, addr)
        except OSError:
            raise OSError(errno.EFAULT, "bad address") from None
        if len(data) != n:
            raise OSError(errno.EFAULT, "bad address")
        return data

    def read_cstr(self, addr: int, limit: int = PATH_MAX) -> bytes:
        """A NUL-terminated string, read a page at a time so that a string
        ending just before an unmapped page still reads."""
        if _bad(addr, 1):
            raise OSError(errno.EFAULT, "bad address")
        # Most paths are short: a first small read, within the same page.
        first = min(256, PAGE - (addr % PAGE))
        try:
            data = os.pread(self.fd, first, addr)
        except OSError:
            raise OSError(errno.EFAULT, "bad address") from None
        i = data.find(b"\0")
        if i >= 0:
            return data[:i]
        if len(data) != first:
            raise OSError(errno.EFAULT, "bad address")
        out = data
        addr += first
        while len(out) < limit:
            chunk = PAGE - (addr % PAGE)
            try:
                data = os.pread(self.fd, chunk, addr)
            except OSError:
                raise OSError(errno.EFAULT, "bad address") from None
            if not data:
                raise OSError(errno.EFAULT, "bad address")
            i = data.find(b"\0")
            if i >= 0:
                out += data[:i]
                if len(out) >= limit:
                    break
                return out
            out += data
            addr += len(data)
        raise OSError(errno.ENAMETOOLONG, "string too long")

    def write(self, addr: int, data: bytes) -> None:
        if _bad(addr, len(data)):
            raise OSError(errno.EFAULT, "bad address")
        try:
            n = os.pwrite(self.fd, data, addr)
        except OSError:
            raise OSError(errno.EFAULT, "bad address") from None
        if n != len(data):
            raise OSError(errno.EFAULT, "bad address")
