"""The stat family, access, readlink, getcwd."""

from __future__ import annotations

import errno
import os

from motte.kernel.libc import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, openat2
from motte.libos.call import CONTINUE, Call, Continue, sint
from motte.libos.fs import devtty, statbuf
from motte.libos.fs.procfs import _Escape
from motte.libos.fs.resolve import AT_FDCWD
from motte.libos.kernel import R_OK, W_OK, LibOS, ProcNodeRef
from motte.libos.syscalls.common import copy_fd

AT_SYMLINK_NOFOLLOW = 0x100
AT_EACCESS = 0x200
AT_EMPTY_PATH = 0x1000
_OPATH_CLOEXEC = os.O_PATH | os.O_CLOEXEC
_OPATH_CLOEXEC_NOFOLLOW = _OPATH_CLOEXEC | os.O_NOFOLLOW
_RES = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS


def _stat_fd(lo: LibOS, fd: int) -> statbuf.Statx:
    """statx of one of our own fds, closed after, with the sandbox's owners."""
    try:
        sx = statbuf.statx_fd(fd)
    finally:
        os.close(fd)
    if lo.ownership or lo.user_mounts:
        lo.virtualise(sx)
    return sx


def stat_path(call: Call, dirfd: int, path: bytes, flags: int) -> statbuf.Statx:
    """The sandbox's stat of a path or, with AT_EMPTY_PATH and "", of a fd.
    The two common cases (fstat, and an absolute path outside /proc) come
    first and short: together they are most of all trapped calls."""
    lo = call.os
    if not path:
        if not flags & AT_EMPTY_PATH:
            raise OSError(errno.ENOENT, "empty path")
        if dirfd == AT_FDCWD:
            path = b"."
        else:
            return _stat_fd(lo, copy_fd(call, dirfd))
    follow = not flags & AT_SYMLINK_NOFOLLOW
    if path[:1] == b"/" and path[-1:] != b"/" and path[:5] != b"/proc" and path != devtty.PATH:
        lo.check_search(call.proc.creds, path, follow)
        try:
            fd = openat2(lo.root_fd, path, _OPATH_CLOEXEC if follow else _OPATH_CLOEXEC_NOFOLLOW, 0, _RES)
        except OSError as e:
            if e.errno != errno.EACCES:  # EACCES: maybe the /proc placeholder; the general way tells
                raise
        else:
            return _stat_fd(lo, fd)
    if path == devtty.PATH:
        return devtty.stat_tty()
    node = lo.lookup(call, dirfd, path, os.O_PATH, 0, follow)
    if isinstance(node, ProcNodeRef):
        return _stat_proc(call, node, node.follow)
    return _stat_fd(lo, node.fd)


def _stat_proc(call: Call, ref: ProcNodeRef, follow: bool) -> statbuf.Statx:
    pfs = call.os.procfs
    try:
        node = pfs.resolve(call, ref.rest, follow)
    except _Escape as esc:
        return stat_path(
            call,
            AT_FDCWD,
            ("/" + "/".join(esc.rest)).encode("utf-8", "surrogateescape"),
            0 if follow else AT_SYMLINK_NOFOLLOW,
        )
    if node.kind == "fdlink" and follow:
        try:
            ours = call.os.host.getfd(node.host_pid, node.fd)  # the link's own process
        except OSError:
            raise OSError(errno.ENOENT, "no such fd") from None
        return _stat_fd(call.os, ours)
    return pfs.stat(node)


def sys_stat(call: Call, path: int, buf: int) -> int:
    call.write(buf, stat_path(call, AT_FDCWD, call.path(path), 0).to_stat())
    return 0


def sys_lstat(call: Call, path: int, buf: int) -> int:
    call.write(buf, stat_path(call, AT_FDCWD, call.path(path), AT_SYMLINK_NOFOLLOW).to_stat())
    return 0


def sys_fstat(call: Call, fd: int, buf: int) -> int:
    call.write(buf, stat_path(call, sint(fd), b"", AT_EMPTY_PATH).to_stat())
    return 0


_STAT_FLAGS = AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x800  # AT_NO_AUTOMOUNT
_STATX_FLAGS = _STAT_FLAGS | 0x6000  # AT_STATX_SYNC_TYPE


def _stat_args(call: Call, path: int, flags: int, valid: int) -> bytes:
    if flags & ~valid:
        raise OSError(errno.EINVAL, "invalid flags")
    if not path:
        if flags & AT_EMPTY_PATH:
            return b""
        raise OSError(errno.EFAULT, "NULL path")
    return call.path(path)


def sys_newfstatat(call: Call, dirfd: int, path: int, buf: int, flags: int) -> int:
    flags = sint(flags)
    p = _stat_args(call, path, flags, _STAT_FLAGS)
    call.write(buf, stat_path(call, sint(dirfd), p, flags).to_stat())
    return 0


def sys_statx(call: Call, dirfd: int, path: int, flags: int, mask: int, buf: int) -> int:
    flags = sint(flags)
    if mask & 0x80000000:  # STATX__RESERVED
        raise OSError(errno.EINVAL, "reserved mask bit")
    p = _stat_args(call, path, flags, _STATX_FLAGS)
    sx = stat_path(call, sint(dirfd), p, flags)
    call.write(buf, sx.to_statx())
    return 0


def access(call: Call, dirfd: int, path: bytes, mode: int, flags: int) -> int:
    if mode & ~7:
        raise OSError(errno.EINVAL, "invalid mode")
    lo = call.os
    sx = stat_path(call, dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
    if mode == 0:
        return 0
    creds = call.proc.creds.copy()
    if not flags & AT_EACCESS:
        creds.fsuid, creds.fsgid = creds.uid, creds.gid
    lo.check(creds, sx, mode)
    if mode & W_OK and path:
        node = lo.lookup(call, dirfd, path, os.O_PATH, 0, not flags & AT_SYMLINK_NOFOLLOW)
        if not isinstance(node, ProcNodeRef):
            try:
                if os.fstatvfs(node.fd).f_flag & os.ST_RDONLY:
                    raise OSError(errno.EROFS, "read-only file system")
            finally:
                os.close(node.fd)
    return 0


def sys_access(call: Call, path: int, mode: int) -> int:
    return access(call, AT_FDCWD, call.path(path), mode, 0)


def sys_faccessat(call: Call, dirfd: int, path: int, mode: int) -> int:
    return access(call, sint(dirfd), call.path(path), mode, 0)


def sys_faccessat2(call: Call, dirfd: int, path: int, mode: int, flags: int) -> int:
    flags = sint(flags)
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EACCESS | AT_EMPTY_PATH):
        raise OSError(errno.EINVAL, "invalid flags")
    return access(call, sint(dirfd), call.path(path) if path else b"", mode, flags)


def readlink(call: Call, dirfd: int, path: bytes, buf: int, size: int) -> int:
    size = sint(size)
    if size <= 0:
        raise OSError(errno.EINVAL, "invalid size")
    lo = call.os
    node = lo.lookup(call, dirfd, path, os.O_PATH, 0, follow=False)
    if isinstance(node, ProcNodeRef):
        try:
            pn = lo.procfs.resolve(call, node.rest, follow=False)
        except _Escape as esc:
            return readlink(call, AT_FDCWD, ("/" + "/".join(esc.rest)).encode("utf-8", "surrogateescape"), buf, size)
        if pn.kind not in ("link", "fdlink"):
            raise OSError(errno.EINVAL, "not a symbolic link")
        target = pn.target().encode("utf-8", "surrogateescape")  # type: ignore[misc]
    else:
        try:
            target = os.readlink(b"", dir_fd=node.fd)
        except FileNotFoundError:
            raise OSError(errno.EINVAL, "not a symbolic link") from None
        finally:
            os.close(node.fd)
    target = target[:size]
    call.write(buf, target)
    return len(target)


def sys_readlink(call: Call, path: int, buf: int, size: int) -> int:
    return readlink(call, AT_FDCWD, call.path(path), buf, size)


def sys_readlinkat(call: Call, dirfd: int, path: int, buf: int, size: int) -> int:
    return readlink(call, sint(dirfd), call.path(path), buf, size)


def sys_getcwd(call: Call, buf: int, size: int) -> int:
    cwd = call.os.host.readlink(call.tid, "cwd")
    if cwd.endswith(" (deleted)"):
        raise OSError(errno.ENOENT, "cwd deleted")
    data = cwd.encode("utf-8", "surrogateescape") + b"\0"
    if len(data) > size:
        raise OSError(errno.ERANGE, "buffer too small")
    call.write(buf, data)
    return len(data)


IN_DONT_FOLLOW = 0x02000000


def sys_inotify_add_watch(call: Call, fd: int, path: int, mask: int) -> Continue:
    """Checked here (search on the path, read on what it names, as the kernel
    would for the virtual user), then added by the kernel in its own tree."""
    lo = call.os
    p = call.path(path)
    node = lo.lookup(call, AT_FDCWD, p, os.O_PATH, 0, not mask & IN_DONT_FOLLOW)
    if isinstance(node, ProcNodeRef):
        raise OSError(errno.EACCES, "no watches in /proc")
    try:
        lo.check(call.proc.creds, statbuf.statx_fd(node.fd), R_OK)
    finally:
        os.close(node.fd)
    lo.check_rereadable(call, path, len(p) + 1, "inotify_add_watch")
    return CONTINUE


def sys_statfs(call: Call, path: int, buf: int) -> Continue:
    lo = call.os
    p = call.path(path)
    node = lo.lookup(call, AT_FDCWD, p, os.O_PATH)
    if isinstance(node, ProcNodeRef):
        raise OSError(errno.ENOSYS, "statfs of /proc")
    os.close(node.fd)
    lo.check_rereadable(call, path, len(p) + 1, "statfs")
    return CONTINUE
