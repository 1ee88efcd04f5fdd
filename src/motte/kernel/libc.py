"""Raw system calls through ctypes.

Python 3.11 lacks unshare, setns, pidfd_getfd, openat2, pivot_root and the
seccomp calls; `syscall()` reaches them with errno turned into OSError.
"""

from __future__ import annotations

import ctypes
import os

from motte.kernel.sysnums import SYSCALLS_X86_64 as NR

_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def syscall(name: str, *args: int | bytes | ctypes._CData | None) -> int:
    """Call system call `name`; raise OSError with errno on failure."""
    conv = []
    for a in args:
        if isinstance(a, int):
            conv.append(ctypes.c_long(a))
        else:
            conv.append(a)
    ret = _syscall(ctypes.c_long(NR[name]), *conv)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{name}: {os.strerror(err)}")
    return ret


# Namespace flags (linux/sched.h).
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080
CLONE_THREAD = 0x00010000
CLONE_VM = 0x00000100
CLONE_VFORK = 0x00004000
CLONE_PARENT = 0x00008000
CLONE_SETTLS = 0x00080000
NAMESPACE_FLAGS = (
    CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME
)


def unshare(flags: int) -> None:
    syscall("unshare", flags)


# Mount flags (linux/mount.h).
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MNT_DETACH = 2


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    ret = _libc.mount(
        source.encode(),
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def umount2(target: str, flags: int) -> None:
    if _libc.umount2(target.encode(), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"umount {target}: {os.strerror(err)}")


def pivot_root(new_root: str, put_old: str) -> None:
    syscall("pivot_root", new_root.encode(), put_old.encode())


def mknod(path: str, mode: int, dev: int) -> None:
    if _libc.mknod(path.encode(), mode, ctypes.c_ulong(dev)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mknod {path}: {os.strerror(err)}")


# prctl options (linux/prctl.h).
PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
PR_GET_NAME = 16
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    ret = _libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(arg4), ctypes.c_ulong(arg5))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")
    return ret


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def last_cap() -> int:
    with open("/proc/sys/kernel/cap_last_cap") as f:
        return int(f.read())


def drop_all_capabilities(last: int) -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable sets
    and lock the securebits so that exec as uid 0 cannot regain them."""
    for cap in range(last + 1):
        prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    # SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP(+LOCKED)
    # | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE(+LOCKED)
    prctl(PR_SET_SECUREBITS, 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80)
    hdr = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    syscall("capset", ctypes.byref(hdr), ctypes.byref(data))


def pidfd_open(pid: int) -> int:
    return syscall("pidfd_open", pid, 0)


_pidfd_getfd_nr = NR["pidfd_getfd"]


def pidfd_getfd(pidfd: int, targetfd: int) -> int:
    # Every fd-based call the library OS serves comes here: the direct,
    # plain-int form of syscall() (both fds are small and non-negative).
    ret = _syscall(_pidfd_getfd_nr, pidfd, targetfd, 0)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pidfd_getfd: {os.strerror(err)}")
    return ret


# kcmp(2) resource types.
KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS = 0, 1, 2, 3


def kcmp_same(pid1: int, pid2: int, kind: int, idx1: int = 0, idx2: int = 0) -> bool:
    """Whether the two processes share the resource `kind` (for KCMP_FILE:
    whether fd idx1 of pid1 and fd idx2 of pid2 are one open file)."""
    return syscall("kcmp", pid1, pid2, kind, idx1, idx2) == 0


def pidfd_send_signal(pidfd: int, sig: int) -> None:
    syscall("pidfd_send_signal", pidfd, sig, None, 0)


# openat2 (linux/openat2.h).
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10


class OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_openat2_nr = NR["openat2"]
_sizeof_how = ctypes.sizeof(OpenHow)


# One immutable open_how per (flags, mode, resolve): the library OS opens
# with a handful of combinations, and a shared, never-written struct is safe
# from any thread.
_hows: dict[tuple[int, int, int], object] = {}


def openat2(dirfd: int, path: bytes, flags: int, mode: int, resolve: int) -> int:
    """openat2(2); returns the fd or raises OSError."""
    key = (flags, mode, resolve)
    ref = _hows.get(key)
    if ref is None:
        how = OpenHow(flags, mode, resolve)
        ref = _hows[key] = (how, ctypes.byref(how))
        if len(_hows) > 4096:  # modes from callers vary; keep the table small
            _hows.clear()
            _hows[key] = ref
    # Plain ints are passed as C ints to the variadic syscall(): right for
    # these, which are all small and non-negative (a dirfd, not AT_FDCWD).
    ret = _syscall(_openat2_nr, dirfd, path, ref[1], _sizeof_how)
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return ret


def sethostname(name: str) -> None:
    b = name.encode()
    if _libc.sethostname(b, len(b)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"sethostname: {os.strerror(err)}")


def setdomainname(name: str) -> None:
    b = name.encode()
    if _libc.setdomainname(b, len(b)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setdomainname: {os.strerror(err)}")


def drop_effective_capabilities() -> None:
    """Clear the calling thread's effective set (threads it starts later
    inherit this): the library OS then meets the same permission checks as
    an unprivileged owner of the sandbox's files, even when motte runs as
    root, and in particular cannot search the /proc placeholder."""
    hdr = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    syscall("capget", ctypes.byref(hdr), ctypes.byref(data))
    for d in data:
        d.effective = 0
    syscall("capset", ctypes.byref(hdr), ctypes.byref(data))


def socket_fd(domain: int, type_: int) -> int:
    """socket(2) without the socket module (unavailable once pid 1 has pivoted)."""
    return syscall("socket", domain, type_, 0)
