"""Reading and writing a picoprocess's memory.

Every pointer argument is copied once into the library OS and acted on from
that copy, so a second thread rewriting the memory after the check changes
nothing (no time-of-check/time-of-use window).
"""

from __future__ import annotations

import errno
import os

from motte.monitor.hostproc import parse_maps

PAGE = 4096
PATH_MAX = 4096
USER_END = 1 << 47  # x86-64 user addresses lie below this


def _bad(addr: int, n: int) -> bool:
    return addr == 0 or addr >= USER_END or addr + n > USER_END


class Memory:
    """/proc/PID/mem of one process (any thread's tid works: one mm).

    Writes through /proc/PID/mem are the kernel's "forced" kind, which go
    through a private mapping's read-only protection (a debugger's
    breakpoint); the kernel writing a system call's result would fault
    instead. So a write lands only inside ranges the process's maps show
    writable, learnt from /proc/PID/maps when a write falls outside the
    ranges known so far (the stack and the heap, after the first few calls).
    A range made read-only later by mprotect is not seen (mprotect is an ABI
    call): such a write still lands, in the process's own private memory.
    (Forced writes never reach a shared mapping the process could not write,
    so no file changes this way.)"""

    def __init__(self, fd: int, maps_fd: int = -1) -> None:
        self.fd = fd
        self.maps_fd = maps_fd
        self.writable: list[tuple[int, int]] = []

    def close(self) -> None:
        for fd in (self.fd, self.maps_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self.maps_fd = -1

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
        end = addr + len(data)
        if _bad(addr, len(data)):
            raise OSError(errno.EFAULT, "bad address")
        for lo, hi in self.writable:
            if lo <= addr and end <= hi:
                break
        else:
            self._learn_writable(addr, end)
        try:
            n = os.pwrite(self.fd, data, addr)
        except OSError:
            raise OSError(errno.EFAULT, "bad address") from None
        if n != len(data):
            raise OSError(errno.EFAULT, "bad address")

    def _learn_writable(self, addr: int, end: int) -> None:
        """Find [addr, end) inside writable mappings (adjacent ones merged)
        and remember that range; EFAULT if any byte of it is not writable."""
        if self.maps_fd < 0:
            return
        ranges = _writable_ranges(parse_maps(_read_all(self.maps_fd)))
        for lo, hi in ranges:
            if lo <= addr and end <= hi:
                if len(self.writable) >= 64:
                    self.writable.clear()
                self.writable.append((lo, hi))
                return
        raise OSError(errno.EFAULT, "bad address")


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _writable_ranges(maps: list[tuple[int, int, bytes, int, bytes]]) -> list[tuple[int, int]]:
    """The writable address ranges of a process's mappings, adjacent ones
    merged."""
    out: list[tuple[int, int]] = []
    for lo, hi, perms, _, _ in maps:
        if perms[1:2] != b"w":
            continue
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
