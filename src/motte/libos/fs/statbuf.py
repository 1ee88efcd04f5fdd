"""statx from the host, rewritten for the sandbox: virtual owners and
device numbers; packed as struct stat or struct statx for the caller."""

from __future__ import annotations

import ctypes
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_statx = _libc.statx
_statx.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]

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
_OFF_MNT_ID = 144


class Statx:
    """A 256-byte struct statx that the library OS may rewrite."""

    __slots__ = ("buf",)

    def __init__(self, buf: bytearray) -> None:
        self.buf = buf

    @property
    def mode(self) -> int:
        return struct.unpack_from("=H", self.buf, 28)[0]

    @property
    def uid(self) -> int:
        return struct.unpack_from("=I", self.buf, _OFF_UID)[0]

    @property
    def gid(self) -> int:
        return struct.unpack_from("=I", self.buf, _OFF_GID)[0]

    @property
    def ino(self) -> int:
        return struct.unpack_from("=Q", self.buf, 32)[0]

    @property
    def size(self) -> int:
        return struct.unpack_from("=Q", self.buf, 40)[0]

    @property
    def nlink(self) -> int:
        return struct.unpack_from("=I", self.buf, 16)[0]

    @property
    def dev(self) -> tuple[int, int]:
        return struct.unpack_from("=II", self.buf, _OFF_DEV_MAJOR)

    @property
    def mnt_id(self) -> int:
        return struct.unpack_from("=Q", self.buf, _OFF_MNT_ID)[0]

    def key(self) -> tuple[int, int, int]:
        ma, mi = self.dev
        return (ma, mi, self.ino)

    def set_owner(self, uid: int, gid: int) -> None:
        struct.pack_into("=II", self.buf, _OFF_UID, uid, gid)

    def set_dev(self, major: int, minor: int) -> None:
        struct.pack_into("=II", self.buf, _OFF_DEV_MAJOR, major, minor)

    def to_stat(self) -> bytes:
        """struct stat (x86-64, 144 bytes)."""
        b = self.buf
        mask, blksize = struct.unpack_from("=II", b, 0)
        nlink, uid, gid, mode = struct.unpack_from("=IIIH", b, 16)
        ino, size, blocks = struct.unpack_from("=QQQ", b, 32)
        at_s, at_ns = struct.unpack_from("=qI", b, 64)
        ct_s, ct_ns = struct.unpack_from("=qI", b, 96)
        mt_s, mt_ns = struct.unpack_from("=qI", b, 112)
        rmaj, rmin, dmaj, dmin = struct.unpack_from("=IIII", b, 128)
        return struct.pack(
            "=QQQIIIiQqqqqqqqqqqqq",
            os.makedev(dmaj, dmin),
            ino,
            nlink,
            mode,
            uid,
            gid,
            0,
            os.makedev(rmaj, rmin),
            size,
            blksize,
            blocks,
            at_s,
            at_ns,
            mt_s,
            mt_ns,
            ct_s,
            ct_ns,
            0,
            0,
            0,
        )


def statx_fd(fd: int, path: bytes = b"", flags: int = AT_EMPTY_PATH) -> Statx:
    buf = bytearray(256)
    cbuf = (ctypes.c_char * 256).from_buffer(buf)
    if _statx(fd, path, flags, STATX_ALL, ctypes.addressof(cbuf)) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return Statx(buf)


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
