"""statx from the host, rewritten for the sandbox: virtual owners and
device numbers; packed as struct stat or struct statx for the caller."""

from __future__ import annotations

import ctypes
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_statx = _libc.statx
_statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
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
    """A 256-byte struct statx that the library OS may rewrite."""

    __slots__ = ("buf", "f")

    def __init__(self, buf: bytearray) -> None:
        self.buf = buf
        self.f = _STATX.unpack_from(buf)

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
        if (uid, gid) != (self.f[4], self.f[5]):
            struct.pack_into("=II", self.buf, _OFF_UID, uid, gid)
            self.f = _STATX.unpack_from(self.buf)

    def set_rdev(self, major: int, minor: int) -> None:
        struct.pack_into("=II", self.buf, 128, major, minor)
        self.f = _STATX.unpack_from(self.buf)

    def to_stat(self) -> bytes:
        """struct stat (x86-64, 144 bytes)."""
        f = self.f
        return _STAT.pack(
            _makedev(f[26], f[27]),
            f[8],
            f[3],
            f[6],
            f[4],
            f[5],
            0,
            _makedev(f[24], f[25]),
            f[9],
            f[1],
            f[10],
            f[12],
            f[13],
            f[21],
            f[22],
            f[18],
            f[19],
            0,
            0,
            0,
        )


_CBuf = ctypes.c_char * 256


def statx_fd(fd: int, path: bytes = b"", flags: int = AT_EMPTY_PATH) -> Statx:
    cbuf = _CBuf()
    if _statx(fd, path, flags, STATX_ALL, cbuf) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return Statx(bytearray(cbuf.raw))


def synthetic(mode: int, uid: int, gid: int, size: int = 0, ino: int = 1, nlink: int = 1, t: float = 0.0) -> Statx:
    """A stat for a file the library OS invents (/proc)."""
    buf = bytearray(256)
    struct.pack_into("=IIQIIIH", buf, 0, STATX_BASIC_STATS, 4096, 0, nlink, uid, gid, mode)
    struct.pack_into("=QQQ", buf, 32, ino, size, 0)
    sec = int(t)
    for off in (64, 80, 96, 112):
        struct.pack_into("=qI", buf, off, sec, int((t - sec) * 1e9))
    struct.pack_into("=II", buf, _OFF_DEV_MAJOR, 0, 0x16)  # a proc-like anonymous device
    return Statx(buf)
