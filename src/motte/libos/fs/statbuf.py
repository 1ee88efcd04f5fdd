"""statx from the host, rewritten for the sandbox: virtual owners and
device numbers; packed as struct stat or struct statx for the caller."""

from __future__ import annotations

import ctypes
import os
import struct
import threading

_libc = ctypes.CDLL(None, use_errno=True)
# No argtypes: every argument is a small int, bytes or a ctypes buffer, and
# ctypes' own conversion halves the cost of this, the hottest foreign call.
_statx = _libc.statx
_statx.restype = ctypes.c_int

AT_EMPTY_PATH = 0x1000
AT_SYMLINK_NOFOLLOW = 0x100
STATX_BASIC_STATS = 0x7FF
STATX_BTIME = 0x800
STATX_MNT_ID = 0x1000
STATX_ALL = STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID

# struct statx field offsets (include/uapi/linux/stat.h).
_OFF_UID = 20
_OFF_GID = 24
_OFF_DEV_MAJOR = 136


# The leading 152 bytes of struct statx, up to stx_mnt_id, in one unpack.
_STATX = struct.Struct("=IIQIIIHHQQQQqIiqIiqIiqIiIIIIQ")
_STAT = struct.Struct("=QQQIIIiQqqqqqqqqqqqq")
_makedev = os.makedev


class Statx:
    """struct statx as a tuple of its fields (up to stx_mnt_id), which the
    library OS may rewrite (owner, rdev) before packing it for the caller."""

    __slots__ = ("f",)

    def __init__(self, fields: tuple) -> None:
        self.f = fields

    @property
    def mode(self) -> int:
        return self.f[6]

    @property
    def uid(self) -> int:
        return self.f[4]

    @property
    def gid(self) -> int:
        return self.f[5]

    @property
    def ino(self) -> int:
        return self.f[8]

    @property
    def size(self) -> int:
        return self.f[9]

    @property
    def nlink(self) -> int:
        return self.f[3]

    @property
    def dev(self) -> tuple[int, int]:
        return (self.f[26], self.f[27])

    @property
    def mnt_id(self) -> int:
        return self.f[28]

    def key(self) -> tuple[int, int, int]:
        f = self.f
        return (f[26], f[27], f[8])

    def set_owner(self, uid: int, gid: int) -> None:
        f = self.f
        if uid != f[4] or gid != f[5]:
            self.f = f[:4] + (uid, gid) + f[6:]

    def set_rdev(self, major: int, minor: int) -> None:
        f = self.f
        self.f = f[:24] + (major, minor) + f[26:]

    def to_stat(self) -> bytes:
        """struct stat (x86-64, 144 bytes)."""
        f = self.f
        return _STAT.pack(
            _makedev(f[26], f[27]), f[8], f[3], f[6], f[4], f[5], 0, _makedev(f[24], f[25]),
            f[9], f[1], f[10], f[12], f[13], f[21], f[22], f[18], f[19], 0, 0, 0,
        )  # fmt: skip

    def to_statx(self) -> bytes:
        """struct statx (256 bytes)."""
        return _STATX.pack(*self.f) + _STATX_TAIL


_STATX_TAIL = bytes(256 - _STATX.size)
_CBuf = ctypes.c_char * 256
_tls = threading.local()


def statx_fd(fd: int, path: bytes = b"", flags: int = AT_EMPTY_PATH) -> Statx:
    buf = getattr(_tls, "buf", None)
    if buf is None:
        buf = _tls.buf = _CBuf()
    if _statx(fd, path, flags, STATX_ALL, buf) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return Statx(_STATX.unpack_from(buf))


def synthetic(mode: int, uid: int, gid: int, size: int = 0, ino: int = 1, nlink: int = 1, t: float = 0.0) -> Statx:
    """A stat for a file the library OS invents (/proc)."""
    sec = int(t)
    ns = int((t - sec) * 1e9)
    times = (sec, ns, 0) * 4
    return Statx((STATX_BASIC_STATS, 4096, 0, nlink, uid, gid, mode, 0, ino, size, 0, 0, *times, 0, 0, 0, 0x16, 0))
