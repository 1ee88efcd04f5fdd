"""seccomp-BPF and seccomp user notification (linux/seccomp.h, linux/filter.h).

A tiny classic-BPF assembler, the notification structures and the ioctls a
supervisor uses to receive a trapped call and answer it.
"""

from __future__ import annotations

import ctypes
import os
import struct
from fcntl import ioctl as _fioctl

from motte.kernel.libc import syscall

# seccomp(2) operations and flags.
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5

# Filter return values.
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_KILL_THREAD = 0x00000000
SECCOMP_RET_TRAP = 0x00030000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_LOG = 0x7FFC0000
SECCOMP_RET_ALLOW = 0x7FFF0000

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000

# struct seccomp_data offsets.
OFF_NR = 0
OFF_ARCH = 4
OFF_IP = 8


def off_arg(i: int, high: bool = False) -> int:
    """Offset of the low (or high) 32 bits of argument i in seccomp_data."""
    return 16 + 8 * i + (4 if high else 0)


# Classic BPF opcodes.
BPF_LD_W_ABS = 0x20
BPF_JMP_JEQ_K = 0x15
BPF_JMP_JGE_K = 0x35
BPF_JMP_JSET_K = 0x45
BPF_JMP_JA = 0x05
BPF_RET_K = 0x06
BPF_ALU_AND_K = 0x54


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def pack_program(insns: list[tuple[int, int, int, int]]) -> bytes:
    """Serialise (code, jt, jf, k) tuples into struct sock_filter bytes."""
    return b"".join(struct.pack("=HBBI", c, jt, jf, k & 0xFFFFFFFF) for c, jt, jf, k in insns)


def install_filter(program: bytes, flags: int) -> int:
    """Install `program` on the calling thread; returns the listener fd when
    NEW_LISTENER is among `flags`. no_new_privs must already be set."""
    n = len(program) // 8
    buf = ctypes.create_string_buffer(program, len(program))
    prog = SockFprog(n, ctypes.cast(buf, ctypes.POINTER(SockFilter)))
    return syscall("seccomp", SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(prog))


# User notification structures.
class SeccompData(ctypes.Structure):
    _fields_ = [
        ("nr", ctypes.c_int32),
        ("arch", ctypes.c_uint32),
        ("instruction_pointer", ctypes.c_uint64),
        ("args", ctypes.c_uint64 * 6),
    ]


class SeccompNotif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("data", SeccompData)]


class SeccompNotifResp(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32), ("flags", ctypes.c_uint32)]


class SeccompNotifAddfd(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint64),
        ("flags", ctypes.c_uint32),
        ("srcfd", ctypes.c_uint32),
        ("newfd", ctypes.c_uint32),
        ("newfd_flags", ctypes.c_uint32),
    ]


_NOTIF = struct.Struct("=QIIiIQ6Q")  # struct seccomp_notif, flattened
_RESP = struct.Struct("=QqiI")  # struct seccomp_notif_resp


def _iowr(nr: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


def _iow(nr: int, size: int) -> int:
    return (1 << 30) | (size << 16) | (ord("!") << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = _iowr(0, ctypes.sizeof(SeccompNotif))
SECCOMP_IOCTL_NOTIF_SEND = _iowr(1, ctypes.sizeof(SeccompNotifResp))
SECCOMP_IOCTL_NOTIF_ID_VALID = _iow(2, 8)
SECCOMP_IOCTL_NOTIF_ADDFD = _iow(3, ctypes.sizeof(SeccompNotifAddfd))
SECCOMP_IOCTL_NOTIF_SET_FLAGS = _iow(4, 8)
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP = 1
SECCOMP_ADDFD_FLAG_SETFD = 1
SECCOMP_ADDFD_FLAG_SEND = 2

_libc = ctypes.CDLL(None, use_errno=True)
_ioctl = _libc.ioctl
_ioctl.restype = ctypes.c_int
_ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
# RECV is on every trapped call's path: a second handle on ioctl without
# argtypes (cheaper), its request number prepared once as an unsigned long.
_recv_ioctl = ctypes.CDLL(None, use_errno=True).ioctl
_recv_ioctl.restype = ctypes.c_int
_RECV_REQ = ctypes.c_ulong(SECCOMP_IOCTL_NOTIF_RECV)
_ADDFD_REQ = ctypes.c_ulong(SECCOMP_IOCTL_NOTIF_ADDFD)


class Listener:
    """The supervisor's end of a seccomp user-notification filter."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._notif = SeccompNotif()
        self._notif_addr = ctypes.addressof(self._notif)
        self._notif_size = ctypes.sizeof(SeccompNotif)
        self._notif_view = memoryview(self._notif).cast("B")
        self._notif_ref = ctypes.byref(self._notif)
        self._zero = bytes(self._notif_size)
        self._resp = SeccompNotifResp()
        self._resp_addr = ctypes.addressof(self._resp)
        self._resp_buf = bytearray(_RESP.size)
        self._addfd = SeccompNotifAddfd()
        self._addfd_addr = ctypes.addressof(self._addfd)
        self._addfd_ref = ctypes.byref(self._addfd)
        self._id = ctypes.c_uint64()
        self._id_addr = ctypes.addressof(self._id)

    def set_sync_wakeup(self) -> bool:
        """Ask the kernel to wake the supervisor on the caller's CPU (6.6+)."""
        # The flags are the ioctl's argument itself, not a pointer to them.
        return _ioctl(self.fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0

    def recv(self) -> tuple[int, ...] | None:
        """Receive one notification as (id, pid, flags, nr, arch, ip, arg0..arg5);
        None if it vanished (ENOENT: the caller died or was signalled) or the
        wait was interrupted."""
        self._notif_view[:] = self._zero  # the kernel insists on a zeroed buffer
        if _recv_ioctl(self.fd, _RECV_REQ, self._notif_ref) != 0:
            err = ctypes.get_errno()
            if err in (2, 4):  # ENOENT, EINTR
                return None
            raise OSError(err, f"SECCOMP_IOCTL_NOTIF_RECV: {os.strerror(err)}")
        return _NOTIF.unpack_from(self._notif_view)

    def send(self, notif_id: int, val: int, error: int, flags: int = 0) -> bool:
        """Answer a notification; False if the caller is gone. (fcntl.ioctl
        is cheaper than a ctypes call; SEND never blocks, so holding the GIL
        through it costs the other threads nothing.)"""
        _RESP.pack_into(self._resp_buf, 0, notif_id, val, error, flags)
        try:
            _fioctl(self.fd, SECCOMP_IOCTL_NOTIF_SEND, self._resp_buf, True)
        except OSError:
            return False
        return True

    def id_valid(self, notif_id: int) -> bool:
        self._id.value = notif_id
        return _ioctl(self.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, self._id_addr) == 0

    def addfd(self, notif_id: int, srcfd: int, newfd_flags: int, send: bool, newfd: int | None = None) -> int:
        """Install our `srcfd` into the caller; with `send`, the new fd number
        also becomes the result of the trapped call, atomically."""
        a = self._addfd
        a.id = notif_id
        a.flags = (SECCOMP_ADDFD_FLAG_SEND if send else 0) | (SECCOMP_ADDFD_FLAG_SETFD if newfd is not None else 0)
        a.srcfd = srcfd
        a.newfd = newfd or 0
        a.newfd_flags = newfd_flags
        ret = _recv_ioctl(self.fd, _ADDFD_REQ, self._addfd_ref)
        if ret < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"SECCOMP_IOCTL_NOTIF_ADDFD: {os.strerror(err)}")
        return ret
