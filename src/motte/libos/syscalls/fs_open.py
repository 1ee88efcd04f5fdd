"""open, openat, openat2, creat."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat as st
from collections.abc import Callable

from motte.libos.call import CONTINUE, Call, Continue, Deferred, InstallFd, sint
from motte.libos.fs import devtty, statbuf
from motte.libos.fs.resolve import AT_FDCWD
from motte.libos.kernel import R_OK, W_OK, X_OK, ProcNodeRef
from motte.libos.syscalls.common import O_ACCMODE, reopen
from motte.monitor.hostproc import reopen_waiting

O_TMPFILE = 0o20000000 | os.O_DIRECTORY
_VALID = 0o37777777 | os.O_PATH


def _want(flags: int) -> int:
    if flags & os.O_PATH:
        return 0
    acc = flags & O_ACCMODE
    w = {os.O_RDONLY: R_OK, os.O_WRONLY: W_OK, os.O_RDWR: R_OK | W_OK}.get(acc, R_OK | W_OK)
    if flags & os.O_TRUNC:
        w |= W_OK
    return w


def open_in_sandbox(
    call: Call, dirfd: int, path: bytes, flags: int, mode: int, path_addr: int = 0
) -> InstallFd | Deferred | Continue:
    lo = call.os
    creds = call.proc.creds
    cloexec = bool(flags & os.O_CLOEXEC)
    flags &= ~os.O_CLOEXEC
    if flags & ~_VALID:
        raise OSError(errno.EINVAL, "invalid flags")
    follow = not flags & os.O_NOFOLLOW
    if path == devtty.PATH or (path.startswith(b"/") and lo.abspath(call, dirfd, path) == devtty.PATH):
        return InstallFd(devtty.open_tty(lo, call.tid, flags), cloexec)
    if flags & O_TMPFILE == O_TMPFILE:
        node = lo.lookup(call, dirfd, path, os.O_PATH | os.O_DIRECTORY)
        if isinstance(node, ProcNodeRef):
            raise OSError(errno.EOPNOTSUPP, "no O_TMPFILE in /proc")
        try:
            lo.check(creds, statbuf.statx_fd(node.fd), W_OK | X_OK)
            fd = os.open(".", flags | os.O_CLOEXEC, mode & ~call.proc.umask & 0o7777, dir_fd=node.fd)
        finally:
            os.close(node.fd)
        lo.record_owner(fd, creds)
        return InstallFd(fd, cloexec)
    if not flags & _NOT_A_PLAIN_READ:
        fast = _open_for_reading(call, dirfd, path, flags, follow)
        if fast is not None:
            return InstallFd(fast, cloexec)
    try:
        node = lo.lookup(call, dirfd, path, os.O_PATH | (flags & (os.O_DIRECTORY | os.O_NOFOLLOW)), 0, follow)
    except OSError as e:
        if e.errno == errno.ENOENT and flags & os.O_CREAT:
            return InstallFd(_create(call, dirfd, path, flags, mode), cloexec)
        raise
    if isinstance(node, ProcNodeRef):
        return InstallFd(_open_proc(call, node, flags, node.follow), cloexec)
    try:
        if flags & os.O_CREAT and flags & os.O_EXCL:
            raise OSError(errno.EEXIST, "file exists")
        sx = statbuf.statx_fd(node.fd)
        kind = st.S_IFMT(sx.mode)
        if kind == st.S_IFLNK:
            if flags & os.O_PATH:
                lo.check_rereadable(call, path_addr, len(path) + 1, "O_PATH open")
                return CONTINUE
            raise OSError(errno.ELOOP, "is a symbolic link")
        if kind == st.S_IFDIR and flags & O_ACCMODE != os.O_RDONLY:
            raise OSError(errno.EISDIR, "is a directory")
        if flags & os.O_DIRECTORY and kind != st.S_IFDIR:
            raise OSError(errno.ENOTDIR, "not a directory")
        lo.check(creds, sx, _want(flags))
        if flags & os.O_PATH:
            # The kernel will not install an O_PATH file into another process
            # (ADDFD answers EBADF), so the caller's own openat runs: in its
            # own root, which holds the same view, and O_PATH grants no access.
            lo.check_rereadable(call, path_addr, len(path) + 1, "O_PATH open")
            return CONTINUE
        if kind == st.S_IFIFO and not flags & os.O_NONBLOCK:
            return _open_fifo(node.fd, flags, cloexec)
        else:
            fd = reopen(node.fd, flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW))
        return InstallFd(fd, cloexec)
    finally:
        os.close(node.fd)


_SETFL_BITS = os.O_APPEND | os.O_ASYNC | os.O_DIRECT | os.O_NOATIME
_NOT_A_PLAIN_READ = O_ACCMODE | os.O_CREAT | os.O_TRUNC | os.O_PATH | O_TMPFILE


def _open_for_reading(call: Call, dirfd: int, path: bytes, flags: int, follow: bool) -> int | None:
    """A read-only open, the most common call there is, in one open: nothing
    happens on opening a file for reading, so the file is opened first and
    checked after (O_NONBLOCK so that a FIFO cannot hold the library OS; the
    caller's own flag is restored). None: take the general way."""
    lo = call.os
    node = lo.lookup(call, dirfd, path, flags | os.O_NONBLOCK | os.O_NOCTTY, 0, follow)
    if isinstance(node, ProcNodeRef):
        return None  # /proc: the general way
    fd = node.fd
    try:
        sx = statbuf.statx_fd(fd)
        if st.S_ISFIFO(sx.mode) and not flags & os.O_NONBLOCK:
            os.close(fd)
            return None  # a blocking FIFO open: the general way defers it
        lo.check(call.proc.creds, sx, R_OK)
        if not flags & os.O_NONBLOCK:
            # F_SETFL sets exactly these bits, so the caller's own flags say
            # what they must be: one call, no F_GETFL.
            fcntl.fcntl(fd, fcntl.F_SETFL, flags & _SETFL_BITS)
    except BaseException:
        with contextlib.suppress(OSError):
            os.close(fd)
        raise
    return fd


def _open_fifo(opath: int, flags: int, cloexec: bool) -> Deferred:
    """A blocking FIFO open waits for the other end: it runs on a worker
    thread so that the library OS goes on serving everyone else."""
    mine = os.dup(opath)

    def finish(still_wanted: Callable[[], bool]) -> InstallFd:
        try:
            return InstallFd(
                reopen_waiting(mine, flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW), still_wanted), cloexec
            )
        finally:
            os.close(mine)

    return Deferred(finish)


def _create(call: Call, dirfd: int, path: bytes, flags: int, mode: int) -> int:
    lo = call.os
    if path.endswith(b"/"):
        raise OSError(errno.EISDIR, "is a directory")
    parent, name = lo.parent_of(call, dirfd, path)
    try:
        lo.check(call.proc.creds, statbuf.statx_fd(parent.fd), W_OK | X_OK)
        fd = os.open(
            name,
            (flags | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC) & ~os.O_PATH,
            mode & ~call.proc.umask & 0o7777,
            dir_fd=parent.fd,
        )
    finally:
        os.close(parent.fd)
    lo.record_owner(fd, call.proc.creds)
    return fd


def _open_proc(call: Call, ref: ProcNodeRef, flags: int, follow: bool) -> int:
    pfs = call.os.procfs
    from motte.libos.fs.procfs import _Escape

    try:
        node = pfs.resolve(call, ref.rest, follow)
    except _Escape as esc:
        newpath = ("/" + "/".join(esc.rest)).encode("utf-8", "surrogateescape")
        if flags & os.O_PATH:
            return _path_only(call, newpath, flags)
        res = open_in_sandbox(call, AT_FDCWD, newpath, flags | os.O_CLOEXEC | os.O_NONBLOCK, 0)
        assert isinstance(res, InstallFd)  # not O_PATH, not a FIFO (O_NONBLOCK): always an fd
        return res.fd
    if node.kind == "fdlink":
        return _reopen_held(call, node.host_pid, node.fd, flags)
    if flags & O_ACCMODE != os.O_RDONLY or flags & os.O_TRUNC:
        raise OSError(errno.EACCES, "/proc is read-only")
    if node.kind == "dir":
        return pfs.open_dir(node)
    if node.kind == "link":
        raise OSError(errno.ELOOP, "is a symbolic link")
    if flags & os.O_DIRECTORY:
        raise OSError(errno.ENOTDIR, "not a directory")
    return pfs.open_file(node)


_PATH_AS_READ = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY


def _path_only(call: Call, path: bytes, flags: int) -> int:
    """An O_PATH open of a path through /proc (/proc/self/root/..., cwd/...).
    Only the kernel makes O_PATH files, and it will not install one into
    another process (ADDFD answers EBADF), nor can it walk the path itself
    (/proc is the library OS's). The nearest thing: the same file opened
    for reading, when the caller may read it anyway, a regular file or a
    directory (opening anything else may do something); else EACCES."""
    lo = call.os
    node = lo.lookup(call, AT_FDCWD, path, os.O_PATH | flags & os.O_DIRECTORY, 0, not flags & os.O_NOFOLLOW)
    if isinstance(node, ProcNodeRef):
        raise OSError(errno.EACCES, "O_PATH through /proc back into /proc")
    with contextlib.closing(_Fd(node.fd)):
        sx = statbuf.statx_fd(node.fd)
        if not (st.S_ISREG(sx.mode) or st.S_ISDIR(sx.mode)):
            # opening anything else may do something (a FIFO's writer wakes)
            raise OSError(errno.EACCES, "O_PATH through /proc of a special file")
        if not lo.may(call.proc.creds, sx, R_OK):
            raise OSError(errno.EACCES, "O_PATH through /proc of a file the caller may not read")
        return reopen(node.fd, _PATH_AS_READ | flags & os.O_DIRECTORY)


def _reopen_held(call: Call, host_pid: int, fd: int, flags: int) -> int:
    """/proc/self/fd/N: the very file the caller holds as N, opened anew, as
    the kernel allows it: a full permission check on the file for the
    caller's credentials; and a stream that lies outside the sandbox's view
    (stdio motte passed in) never opens with more access than it was given."""
    want = _want(flags)
    try:
        ours = call.os.host.getfd(host_pid, fd)  # the fd of the process the link belongs to
    except OSError:
        raise OSError(errno.ENOENT, "no such fd") from None
    with contextlib.closing(_Fd(ours)):
        sx = statbuf.statx_fd(ours)
        if flags & os.O_PATH:
            if flags & os.O_DIRECTORY and not st.S_ISDIR(sx.mode):
                raise OSError(errno.ENOTDIR, "not a directory")
            if host_pid == call.proc.host_pid and not fcntl.fcntl(ours, fcntl.F_GETFL) & os.O_PATH:
                # The kernel will not install an O_PATH file here (see
                # _path_only); the caller's own open file once more (a dup)
                # gives it nothing it did not hold.
                return os.dup(ours)
            if not (st.S_ISREG(sx.mode) or st.S_ISDIR(sx.mode)):
                raise OSError(errno.EACCES, "O_PATH through /proc of a special file")
            flags = _PATH_AS_READ | flags & os.O_DIRECTORY  # as _path_only
            want = R_OK
        if st.S_ISREG(sx.mode) or st.S_ISDIR(sx.mode) or st.S_ISCHR(sx.mode):
            # Pipes and sockets belong to whoever made them: the caller's own.
            call.os.check(call.proc.creds, sx, want)
            call.os.check_reached(call, host_pid, fd, ours)
        # Never more access than held for a pipe or socket (its other end may
        # be the host's) or a stream from outside the view.
        if not (st.S_ISREG(sx.mode) or st.S_ISDIR(sx.mode)) or not call.os.procfs.in_view(host_pid, fd):
            held = fcntl.fcntl(ours, fcntl.F_GETFL) & O_ACCMODE
            have = {os.O_RDONLY: R_OK, os.O_WRONLY: W_OK, os.O_RDWR: R_OK | W_OK}.get(held, 0)
            if want & ~have or flags & os.O_TRUNC and not have & W_OK:
                call.os.log_denial(f"reopen of fd {fd} outside the view with more access")
                raise OSError(errno.EACCES, "more access than the stream was given")
        if st.S_ISFIFO(sx.mode) and not flags & os.O_PATH:
            # Never wait for a FIFO's other end on the library OS's thread:
            # open it non-blocking, then give the caller its own flags.
            fd2 = reopen(ours, (flags | os.O_NONBLOCK) & ~(os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW))
            if not flags & os.O_NONBLOCK:
                try:
                    fcntl.fcntl(fd2, fcntl.F_SETFL, flags & _SETFL_BITS)
                except OSError:
                    os.close(fd2)
                    raise
            return fd2
        return reopen(ours, flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW))


class _Fd:
    """An fd of ours that `contextlib.closing` closes."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        os.close(self.fd)


def sys_open(call: Call, path: int, flags: int, mode: int) -> InstallFd | Deferred | Continue:
    return open_in_sandbox(call, AT_FDCWD, call.path(path), sint(flags), mode, path)


def sys_creat(call: Call, path: int, mode: int) -> InstallFd | Deferred | Continue:
    return open_in_sandbox(call, AT_FDCWD, call.path(path), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)


def sys_openat(call: Call, dirfd: int, path: int, flags: int, mode: int) -> InstallFd | Deferred | Continue:
    return open_in_sandbox(call, sint(dirfd), call.path(path), sint(flags), mode, path)


def sys_openat2(call: Call, dirfd: int, path: int, how: int, size: int) -> int:
    # struct open_how lies in the caller's memory, and an O_PATH open must be
    # run by the kernel (ADDFD will not install O_PATH files), which would read
    # the flags again: a racing thread could turn O_PATH into O_WRONLY after
    # the check. ENOSYS makes callers fall back to openat, whose flags are in
    # registers.
    raise OSError(errno.ENOSYS, "openat2")
