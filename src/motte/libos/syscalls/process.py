"""fork, vfork, clone, execve, signals between the sandbox's processes."""

from __future__ import annotations

import errno
import os
import stat as st

from motte.kernel.libc import CLONE_THREAD, NAMESPACE_FLAGS
from motte.libos.call import CONTINUE, Call, Continue, sint
from motte.libos.fs import statbuf
from motte.libos.fs.resolve import AT_FDCWD
from motte.libos.kernel import X_OK, ProcNodeRef
from motte.libos.syscalls.common import held_fd


def _fork(call: Call) -> Continue:
    lo = call.os
    limit = lo.config.max_processes
    if limit and len(lo.procs.live()) >= limit:
        lo.log_denial(f"fork refused: {limit} processes (limits.processes)")
        raise OSError(errno.EAGAIN, "process limit")
    # The child takes its parent's credentials when the library OS first
    # sees it (forks are mostly native clone calls, never seen at all).
    return CONTINUE


def sys_fork(call: Call) -> Continue:
    return _fork(call)


def sys_vfork(call: Call) -> Continue:
    return _fork(call)


def sys_clone(call: Call, flags: int, *_: int) -> Continue:
    if flags & NAMESPACE_FLAGS:
        call.os.log_denial(f"clone with namespace flags {flags:#x}")
        raise OSError(errno.EPERM, "namespaces cannot be created in the sandbox")
    if flags >> 32:
        raise OSError(errno.EINVAL, "invalid clone flags")
    if flags & CLONE_THREAD:
        return CONTINUE
    return _fork(call)


def sys_clone3(call: Call, *_: int) -> int:
    # Its flags sit in memory the caller could rewrite after a check; glibc
    # falls back to clone(2), whose flags the filter and we can read safely.
    raise OSError(errno.ENOSYS, "clone3")


def execve(call: Call, dirfd: int, path: bytes, flags: int, path_addr: int = 0) -> Continue:
    lo = call.os
    if not path and flags & 0x1000:  # fexecve: an fd the caller holds
        # The kernel checks execute permission for the one host user the
        # sandbox runs as: the virtual user's is checked here.
        with held_fd(call, dirfd) as ours:
            sx = statbuf.statx_fd(ours)
            if not st.S_ISREG(sx.mode):
                raise OSError(errno.EACCES, "not a regular file")
            lo.check(call.proc.creds, sx, X_OK)
            lo.check_reached(call, call.proc.host_pid, dirfd, ours)
        lo.check_rereadable(call, path_addr, 1, "fexecve")
        call.proc.mem_stale = True  # a new address space follows, as below
        lo.procs.forget_threads_of(call.proc)
        return CONTINUE
    node = lo.lookup(call, dirfd, path, os.O_PATH, 0, not flags & 0x100)
    if isinstance(node, ProcNodeRef):
        raise OSError(errno.EACCES, "cannot execute from /proc")
    try:
        sx = statbuf.statx_fd(node.fd)
    finally:
        os.close(node.fd)
    if st.S_ISLNK(sx.mode):
        raise OSError(errno.ELOOP, "is a symbolic link")
    if not st.S_ISREG(sx.mode):
        raise OSError(errno.EACCES, "not a regular file")
    lo.check(call.proc.creds, sx, X_OK)
    lo.check_rereadable(call, path_addr, len(path) + 1, "exec")
    call.proc.exe = node.path.decode("utf-8", "surrogateescape")
    call.proc.mem_stale = True
    lo.procs.forget_threads_of(call.proc)
    return CONTINUE


def sys_execve(call: Call, path: int, argv: int, envp: int) -> Continue:
    return execve(call, AT_FDCWD, call.path(path), 0, path)


def sys_execveat(call: Call, dirfd: int, path: int, argv: int, envp: int, flags: int) -> Continue:
    return execve(call, sint(dirfd), call.path(path) if path else b"", sint(flags), path)


def sys_kill(call: Call, pid: int, sig: int) -> int | Continue:
    pid, sig = sint(pid), sint(sig)
    if sig < 0 or sig > 64:
        raise OSError(errno.EINVAL, "invalid signal")
    if pid == 1 and call.os.pid1_dies_of(sig):
        call.os.end_pid1(sig)
        return 0
    # A group or everyone: confined by the pid namespace; pid 1 in the group
    # gets the same treatment as above.
    if pid <= 0 and sig and call.os.pid1_dies_of(sig):
        p1 = call.os.procs.by_sandbox_pid(1)
        if p1 is not None:
            grp = int(call.os.host.status(p1.host_pid).get("NSpgid", "0").split()[-1])
            mine = int(call.os.host.status(call.tid).get("NSpgid", "0").split()[-1])
            if pid == 0 and grp == mine or pid < -1 and grp == -pid:
                call.os.end_pid1(sig)
    return CONTINUE


def sys_tgkill(call: Call, tgid: int, tid: int, sig: int) -> int | Continue:
    if sint(tgid) == 1 and sint(tid) == 1 and call.os.pid1_dies_of(sint(sig)):
        call.os.end_pid1(sint(sig))
        return 0
    return CONTINUE


def sys_tkill(call: Call, tid: int, sig: int) -> int | Continue:
    if sint(tid) == 1 and call.os.pid1_dies_of(sint(sig)):
        call.os.end_pid1(sint(sig))
        return 0
    return CONTINUE
