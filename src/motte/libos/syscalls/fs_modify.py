"""Calls that change the file tree: mkdir, unlink, rename, link, symlink,
mknod, chmod, chown (virtual), utimensat, truncate; and chdir, umask."""

from __future__ import annotations

import ctypes
import errno
import os
import stat as st
import struct
from collections.abc import Callable

from motte.kernel.libc import syscall
from motte.libos.call import CONTINUE, Call, Continue, sint
from motte.libos.fs import statbuf
from motte.libos.fs.resolve import AT_FDCWD
from motte.libos.kernel import R_OK, W_OK, X_OK, HostNode, ProcNodeRef
from motte.libos.syscalls.common import copy_fd, held_fd, reopen
from motte.libos.syscalls.fs_stat import AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, stat_path
from motte.monitor.hostproc import chmod_fd

AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400


def _writable_parent(call: Call, dirfd: int, path: bytes) -> tuple[HostNode, bytes]:
    parent, name = call.os.parent_of(call, dirfd, path)
    try:
        call.os.check(call.proc.creds, statbuf.statx_fd(parent.fd), W_OK | X_OK)
    except BaseException:
        os.close(parent.fd)
        raise
    return parent, name


def _sticky_ok(call: Call, parent: HostNode, name: bytes) -> None:
    """In a sticky directory (/tmp) only the owner of the entry or of the
    directory may remove or rename it."""
    creds = call.proc.creds
    if creds.fsuid == 0:
        return
    psx = statbuf.statx_fd(parent.fd)
    if not psx.mode & st.S_ISVTX:
        return
    sx = statbuf.statx_fd(parent.fd, name, AT_SYMLINK_NOFOLLOW)
    if call.os.virt_owner(sx)[0] != creds.fsuid and call.os.virt_owner(psx)[0] != creds.fsuid:
        raise OSError(errno.EPERM, "sticky directory")


def _make(call: Call, dirfd: int, path: bytes, make: Callable[[bytes, int], None]) -> int:
    """Create a new name with `make(name, parent_fd)` in a directory the
    caller may write, and record the caller as its owner."""
    parent, name = _writable_parent(call, dirfd, path)
    try:
        make(name, parent.fd)
        call.os.tree_changed()  # a walk that stopped at this name goes further now
        fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent.fd)
        try:
            call.os.record_owner(fd, call.proc.creds)
        finally:
            os.close(fd)
    finally:
        os.close(parent.fd)
    return 0


def mkdir(call: Call, dirfd: int, path: bytes, mode: int) -> int:
    perm = mode & ~call.proc.umask & 0o7777
    return _make(call, dirfd, path, lambda name, pfd: os.mkdir(name, perm, dir_fd=pfd))


def sys_mkdir(call: Call, path: int, mode: int) -> int:
    return mkdir(call, AT_FDCWD, call.path(path), mode)


def sys_mkdirat(call: Call, dirfd: int, path: int, mode: int) -> int:
    return mkdir(call, sint(dirfd), call.path(path), mode)


def unlink(call: Call, dirfd: int, path: bytes, flags: int) -> int:
    if flags & ~AT_REMOVEDIR:
        raise OSError(errno.EINVAL, "invalid flags")
    if path.rstrip(b"/").endswith(b"/.") or path in (b".", b"./"):
        raise OSError(errno.EINVAL, "cannot remove '.'")
    parent, name = _writable_parent(call, dirfd, path)
    try:
        _sticky_ok(call, parent, name)
        try:
            gone = statbuf.statx_fd(parent.fd, name, AT_SYMLINK_NOFOLLOW)
        except OSError:
            gone = None
        call.os.tree_changed()
        if flags & AT_REMOVEDIR:
            os.rmdir(name, dir_fd=parent.fd)
        else:
            if path.endswith(b"/"):
                raise OSError(errno.ENOTDIR, "not a directory")
            os.unlink(name, dir_fd=parent.fd)
        if gone is not None and (gone.nlink <= 1 or flags & AT_REMOVEDIR):
            # Its last name: forget its owner, or the table grows with every
            # file a program creates and deletes (and a reused inode would
            # inherit the owner).
            call.os.ownership.pop(gone.key(), None)
            call.os.forget_closed(gone.key())
    finally:
        os.close(parent.fd)
    return 0


def sys_unlink(call: Call, path: int) -> int:
    return unlink(call, AT_FDCWD, call.path(path), 0)


def sys_rmdir(call: Call, path: int) -> int:
    return unlink(call, AT_FDCWD, call.path(path), AT_REMOVEDIR)


def sys_unlinkat(call: Call, dirfd: int, path: int, flags: int) -> int:
    return unlink(call, sint(dirfd), call.path(path), sint(flags))


def rename(call: Call, olddir: int, old: bytes, newdir: int, new: bytes, flags: int) -> int:
    if flags & ~0x7:
        raise OSError(errno.EINVAL, "invalid flags")
    op, oname = _writable_parent(call, olddir, old)
    try:
        np, nname = _writable_parent(call, newdir, new)
        try:
            _sticky_ok(call, op, oname)
            call.os.tree_changed()
            try:
                statbuf.statx_fd(np.fd, nname, AT_SYMLINK_NOFOLLOW)
                _sticky_ok(call, np, nname)
            except FileNotFoundError:
                pass
            if flags:
                c_old = ctypes.create_string_buffer(oname)
                c_new = ctypes.create_string_buffer(nname)
                syscall("renameat2", op.fd, c_old, np.fd, c_new, flags)
            else:
                os.rename(oname, nname, src_dir_fd=op.fd, dst_dir_fd=np.fd)
        finally:
            os.close(np.fd)
    finally:
        os.close(op.fd)
    return 0


def sys_rename(call: Call, old: int, new: int) -> int:
    return rename(call, AT_FDCWD, call.path(old), AT_FDCWD, call.path(new), 0)


def sys_renameat(call: Call, od: int, old: int, nd: int, new: int) -> int:
    return rename(call, sint(od), call.path(old), sint(nd), call.path(new), 0)


def sys_renameat2(call: Call, od: int, old: int, nd: int, new: int, flags: int) -> int:
    return rename(call, sint(od), call.path(old), sint(nd), call.path(new), sint(flags))


def link(call: Call, olddir: int, old: bytes, newdir: int, new: bytes, flags: int) -> int:
    if flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH):
        raise OSError(errno.EINVAL, "invalid flags")
    lo = call.os
    if flags & AT_SYMLINK_FOLLOW:
        src = lo.lookup(call, olddir, old, os.O_PATH)
        if isinstance(src, ProcNodeRef):
            raise OSError(errno.EXDEV, "cross-device link")
        srcpath = src.path
        os.close(src.fd)
        sp, sname = lo.parent_of(call, AT_FDCWD, srcpath)
    else:
        sp, sname = lo.parent_of(call, olddir, old)
    try:
        creds = call.proc.creds
        lo.check(creds, statbuf.statx_fd(sp.fd), X_OK)  # the walk checked the directories above it
        if creds.fsuid:
            # protected_hardlinks, as Linux defaults: a link to someone
            # else's file only for one who may read and write it
            sx = statbuf.statx_fd(sp.fd, sname, AT_SYMLINK_NOFOLLOW)
            if lo.virt_owner(sx)[0] != creds.fsuid and not (
                st.S_ISREG(sx.mode) and not sx.mode & (st.S_ISUID | st.S_ISGID) and lo.may(creds, sx, R_OK | W_OK)
            ):
                raise OSError(errno.EPERM, "not the owner of the file to link")
        np, nname = _writable_parent(call, newdir, new)
        try:
            os.link(sname, nname, src_dir_fd=sp.fd, dst_dir_fd=np.fd, follow_symlinks=False)
            lo.tree_changed()  # a link to a symlink makes a missing name lead somewhere
        finally:
            os.close(np.fd)
    finally:
        os.close(sp.fd)
    return 0


def sys_link(call: Call, old: int, new: int) -> int:
    return link(call, AT_FDCWD, call.path(old), AT_FDCWD, call.path(new), 0)


def sys_linkat(call: Call, od: int, old: int, nd: int, new: int, flags: int) -> int:
    return link(call, sint(od), call.path(old), sint(nd), call.path(new), sint(flags))


def symlink(call: Call, target: bytes, dirfd: int, path: bytes) -> int:
    if not target:
        raise OSError(errno.ENOENT, "empty target")
    return _make(call, dirfd, path, lambda name, pfd: os.symlink(target, name, dir_fd=pfd))


def sys_symlink(call: Call, target: int, path: int) -> int:
    return symlink(call, call.path(target), AT_FDCWD, call.path(path))


def sys_symlinkat(call: Call, target: int, dirfd: int, path: int) -> int:
    return symlink(call, call.path(target), sint(dirfd), call.path(path))


def mknod(call: Call, dirfd: int, path: bytes, mode: int, dev: int) -> int:
    mode &= 0xFFFFFFFF  # mode_t
    kind = st.S_IFMT(mode) or st.S_IFREG
    if kind not in (st.S_IFREG, st.S_IFIFO, st.S_IFSOCK):
        raise OSError(errno.EPERM, "device nodes cannot be made in the sandbox")
    perm = kind | (mode & ~call.proc.umask & 0o7777)
    return _make(call, dirfd, path, lambda name, pfd: os.mknod(name, perm, 0, dir_fd=pfd))


def sys_mknod(call: Call, path: int, mode: int, dev: int) -> int:
    return mknod(call, AT_FDCWD, call.path(path), mode, dev)


def sys_mknodat(call: Call, dirfd: int, path: int, mode: int, dev: int) -> int:
    return mknod(call, sint(dirfd), call.path(path), mode, dev)


def held_in_view(call: Call, fd: int) -> int:
    """Our copy of the caller's fd, for changing the file's metadata: only a
    file of the sandbox's view (not a host file motte passed in as stdio)."""
    if not call.os.procfs.in_view(call.proc.host_pid, fd):
        call.os.log_denial(f"metadata change on fd {fd}, a stream from outside the view")
        raise OSError(errno.EPERM, "not a file of the sandbox")
    return copy_fd(call, fd)


def target_fd(call: Call, dirfd: int, path: bytes | None, follow: bool) -> int:
    """An O_PATH fd (ours) on what `path` names, or on the caller's fd."""
    if not path:
        return held_in_view(call, dirfd)
    node = call.os.lookup(call, dirfd, path, os.O_PATH, 0, follow)
    if isinstance(node, ProcNodeRef):
        raise OSError(errno.EPERM, "/proc is not changeable")
    return node.fd


def _owner_or_root(call: Call, fd: int) -> statbuf.Statx:
    sx = statbuf.statx_fd(fd)
    creds = call.proc.creds
    if creds.fsuid != 0 and call.os.virt_owner(sx)[0] != creds.fsuid:
        raise OSError(errno.EPERM, "not the owner")
    return sx


def chmod(call: Call, dirfd: int, path: bytes | None, mode: int, flags: int) -> int:
    fd = target_fd(call, dirfd, path, not flags & AT_SYMLINK_NOFOLLOW)
    try:
        sx = _owner_or_root(call, fd)
        if st.S_ISLNK(sx.mode):
            raise OSError(errno.EOPNOTSUPP, "cannot chmod a symbolic link")
        chmod_fd(fd, mode & 0o7777)
        call.os.note_mode(sx, mode & 0o7777)
        call.os.tree_changed()
    finally:
        os.close(fd)
    return 0


def sys_chmod(call: Call, path: int, mode: int) -> int:
    return chmod(call, AT_FDCWD, call.path(path), mode, 0)


def sys_fchmod(call: Call, fd: int, mode: int) -> int:
    return chmod(call, sint(fd), None, mode, 0)


def sys_fchmodat(call: Call, dirfd: int, path: int, mode: int) -> int:
    return chmod(call, sint(dirfd), call.path(path), mode, 0)


def sys_fchmodat2(call: Call, dirfd: int, path: int, mode: int, flags: int) -> int:
    p = call.path(path) if path else b""
    return chmod(call, sint(dirfd), p or None, mode, sint(flags))


def chown(call: Call, dirfd: int, path: bytes | None, uid: int, gid: int, flags: int) -> int:
    """Ownership is virtual: recorded by the library OS, never the host's."""
    uid, gid = sint(uid), sint(gid)
    fd = target_fd(call, dirfd, path, not flags & AT_SYMLINK_NOFOLLOW)
    try:
        sx = statbuf.statx_fd(fd)
        cur_uid, cur_gid = call.os.virt_owner(sx)
        creds = call.proc.creds
        new_uid = cur_uid if uid == -1 else uid & 0xFFFFFFFF
        new_gid = cur_gid if gid == -1 else gid & 0xFFFFFFFF
        if creds.fsuid != 0:
            if new_uid != cur_uid or cur_uid != creds.fsuid:
                raise OSError(errno.EPERM, "only root may change the owner")
            if new_gid != cur_gid and new_gid != creds.fsgid and new_gid not in creds.groups:
                raise OSError(errno.EPERM, "not a member of that group")
        if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, "read-only file system")
        call.os.ownership[sx.key()] = (new_uid, new_gid)
        call.os.owner_changed(sx)
    finally:
        os.close(fd)
    return 0


def sys_chown(call: Call, path: int, uid: int, gid: int) -> int:
    return chown(call, AT_FDCWD, call.path(path), uid, gid, 0)


def sys_lchown(call: Call, path: int, uid: int, gid: int) -> int:
    return chown(call, AT_FDCWD, call.path(path), uid, gid, AT_SYMLINK_NOFOLLOW)


def sys_fchown(call: Call, fd: int, uid: int, gid: int) -> int:
    return chown(call, sint(fd), None, uid, gid, 0)


def sys_fchownat(call: Call, dirfd: int, path: int, uid: int, gid: int, flags: int) -> int:
    if sint(flags) & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        raise OSError(errno.EINVAL, "invalid flags")
    p = call.path(path) if path else b""
    return chown(call, sint(dirfd), p or None, uid, gid, sint(flags))


_libc = ctypes.CDLL(None, use_errno=True)


UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


def sys_utimensat(call: Call, dirfd: int, path: int, times: int, flags: int) -> int:
    flags = sint(flags)
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        raise OSError(errno.EINVAL, "invalid flags")
    raw = call.read(times, 32) if times else None
    nsecs = struct.unpack_from("=8xq8xq", raw) if raw is not None else (UTIME_NOW, UTIME_NOW)
    for ns in nsecs:
        if not (0 <= ns < 1_000_000_000 or ns in (UTIME_NOW, UTIME_OMIT)):
            raise OSError(errno.EINVAL, "invalid nanoseconds")
    p = call.path(path) if path else b""
    if p:
        fd = target_fd(call, sint(dirfd), p, not flags & AT_SYMLINK_NOFOLLOW)
    else:
        fd = held_in_view(call, sint(dirfd))
    try:
        sx = statbuf.statx_fd(fd)
        creds = call.proc.creds
        is_owner = creds.fsuid == 0 or call.os.virt_owner(sx)[0] == creds.fsuid
        if not is_owner:
            # To "now" (or left alone) needs write permission; any other
            # time needs ownership, as the kernel decides it.
            if all(ns in (UTIME_NOW, UTIME_OMIT) for ns in nsecs):
                call.os.check(creds, sx, W_OK)
            else:
                raise OSError(errno.EPERM, "not the owner")
        buf = ctypes.create_string_buffer(raw, 32) if raw is not None else None
        ret = _libc.utimensat(fd, b"", buf, AT_EMPTY_PATH)
        if ret != 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
    finally:
        os.close(fd)
    return 0


def truncate(call: Call, path: bytes, length: int) -> int:
    if length < 0:
        raise OSError(errno.EINVAL, "negative length")
    node = call.os.lookup(call, AT_FDCWD, path, os.O_PATH)
    if isinstance(node, ProcNodeRef):
        raise OSError(errno.EACCES, "/proc is read-only")
    try:
        sx = statbuf.statx_fd(node.fd)
        if st.S_ISDIR(sx.mode):
            raise OSError(errno.EISDIR, "is a directory")
        if not st.S_ISREG(sx.mode):
            raise OSError(errno.EINVAL, "not a regular file")  # and never a FIFO open that waits
        call.os.check(call.proc.creds, sx, W_OK)
        wfd = reopen(node.fd, os.O_WRONLY)
        try:
            os.ftruncate(wfd, length)
        finally:
            os.close(wfd)
    finally:
        os.close(node.fd)
    return 0


def sys_truncate(call: Call, path: int, length: int) -> int:
    return truncate(call, call.path(path), length if length < 1 << 63 else length - (1 << 64))


def sys_chdir(call: Call, path: int) -> Continue:
    """Checked here, then done by the kernel in its own tree, which holds
    the same view: the kernel's cwd is what relative exec paths use."""
    p = call.path(path)
    sx = stat_path(call, AT_FDCWD, p, 0)
    if not st.S_ISDIR(sx.mode):
        raise OSError(errno.ENOTDIR, "not a directory")
    call.os.check(call.proc.creds, sx, X_OK)
    call.os.check_rereadable(call, path, len(p) + 1, "chdir")
    return CONTINUE


def sys_fchdir(call: Call, fd: int) -> Continue:
    try:
        target = call.os.host.readlink(call.tid, f"fd/{sint(fd)}") if sint(fd) >= 0 else ""
    except FileNotFoundError:
        raise OSError(errno.EBADF, "bad fd") from None
    if target.startswith("/.motte-proc/"):
        raise OSError(errno.EACCES, "cannot enter a /proc directory")
    with held_fd(call, sint(fd)) as ours:
        sx = statbuf.statx_fd(ours)
        if not st.S_ISDIR(sx.mode):
            raise OSError(errno.ENOTDIR, "not a directory")
        call.os.check(call.proc.creds, call.os.virtualise(sx), X_OK)
        call.os.check_reached(call, call.proc.host_pid, sint(fd), ours)
    call.os.check_rereadable(call, 0, 0, "fchdir")  # the kernel takes fd `fd` again
    return CONTINUE


def sys_umask(call: Call, mask: int) -> int:
    old = call.proc.umask
    call.proc.umask = mask & 0o777
    return old
