"""Extended attributes: get, list, set and remove, by path and by fd.

All are answered by the library OS on the file it resolved and checked: the
kernel would re-read the path from the caller's memory, and would check
permissions for the one host user the sandbox runs as, the owner of
everything. fgetxattr and flistxattr on a held fd stay the kernel's.
"""

from __future__ import annotations

import errno
import os
import stat as st
from collections.abc import Callable

from motte.libos.call import Call, sint
from motte.libos.fs import statbuf
from motte.libos.fs.resolve import AT_FDCWD
from motte.libos.kernel import R_OK, W_OK, ProcNodeRef
from motte.libos.syscalls.fs_modify import held_in_view, target_fd
from motte.monitor.hostproc import getxattr_fd, listxattr_fd, removexattr_fd, setxattr_fd

XATTR_NAME_MAX, XATTR_SIZE_MAX = 255, 65536


def _name(call: Call, ptr: int) -> bytes:
    name = call.path(ptr)
    if not name or len(name) > XATTR_NAME_MAX:
        raise OSError(errno.ERANGE, "bad attribute name")
    return name


# -- reading ---------------------------------------------------------------------


def _read(call: Call, path: int, follow: bool, read: Callable[[int], bytes], buf: int, size: int, listing: bool) -> int:
    """Answer from `read(fd)` on the file `path` names, with getxattr's and
    listxattr's size rules. /proc has no attributes: ENODATA, or an empty list."""
    node = call.os.lookup(call, AT_FDCWD, call.path(path), os.O_PATH, 0, follow)
    if isinstance(node, ProcNodeRef):
        if not listing:
            raise OSError(errno.ENODATA, "no attribute")
        data = b""
    else:
        try:
            data = read(node.fd)
        finally:
            os.close(node.fd)
    size = sint(size)
    if size < 0:
        raise OSError(errno.EINVAL, "negative size")
    if size:
        if len(data) > size:
            raise OSError(errno.ERANGE, "buffer too small")
        call.write(buf, data)
    return len(data)


def _value(call: Call, name: int) -> Callable[[int], bytes]:
    nm = _name(call, name)

    def read(fd: int) -> bytes:
        creds = call.proc.creds
        if nm.startswith(b"user."):
            sx = statbuf.statx_fd(fd)
            if not (st.S_ISREG(sx.mode) or st.S_ISDIR(sx.mode)):
                raise OSError(errno.ENODATA, "no attribute")
            call.os.check(creds, sx, R_OK)  # user attributes need read permission
        elif nm.startswith(b"trusted.") and creds.fsuid:
            raise OSError(errno.ENODATA, "no attribute")
        return getxattr_fd(fd, nm)

    return read


def _names(call: Call) -> Callable[[int], bytes]:
    def read(fd: int) -> bytes:
        names = listxattr_fd(fd)
        if call.proc.creds.fsuid:
            names = [n for n in names if not n.startswith(b"trusted.")]
        return b"".join(n + b"\0" for n in names)

    return read


def sys_getxattr(call: Call, path: int, name: int, value: int, size: int) -> int:
    return _read(call, path, True, _value(call, name), value, size, listing=False)


def sys_lgetxattr(call: Call, path: int, name: int, value: int, size: int) -> int:
    return _read(call, path, False, _value(call, name), value, size, listing=False)


def sys_listxattr(call: Call, path: int, lst: int, size: int) -> int:
    return _read(call, path, True, _names(call), lst, size, listing=True)


def sys_llistxattr(call: Call, path: int, lst: int, size: int) -> int:
    return _read(call, path, False, _names(call), lst, size, listing=True)


# -- changing --------------------------------------------------------------------


def _name_to_change(call: Call, ptr: int) -> bytes:
    name = _name(call, ptr)
    if name.startswith(b"system.posix_acl_"):
        # The library OS decides access from the mode bits of the virtual
        # users; an ACL would grant what they do not say (to the kernel's
        # one user): none in the sandbox, as on a file system without ACLs.
        raise OSError(errno.EOPNOTSUPP, "no POSIX ACLs in the sandbox")
    if not name.startswith((b"user.", b"trusted.", b"security.")):
        raise OSError(errno.EOPNOTSUPP, "unsupported attribute namespace")
    return name


def _may_change(call: Call, fd: int, name: bytes) -> None:
    """What the kernel checks, for the virtual credentials."""
    creds = call.proc.creds
    sx = statbuf.statx_fd(fd)
    if os.fstatvfs(fd).f_flag & os.ST_RDONLY:
        raise OSError(errno.EROFS, "read-only file system")
    if name.startswith(b"user."):
        if not (st.S_ISREG(sx.mode) or st.S_ISDIR(sx.mode)):
            raise OSError(errno.EPERM, "user attributes only on files and directories")
        call.os.check(creds, sx, W_OK)
    elif creds.fsuid:
        raise OSError(errno.EPERM, "trusted and security attributes need privilege")


def _set(call: Call, fd: int, name: int, value: int, size: int, flags: int) -> int:
    nm = _name_to_change(call, name)
    if size > XATTR_SIZE_MAX:
        raise OSError(errno.E2BIG, "attribute value too large")
    if flags & ~3:
        raise OSError(errno.EINVAL, "invalid flags")
    data = call.read(value, size) if size else b""
    _may_change(call, fd, nm)
    setxattr_fd(fd, nm, data, flags)
    return 0


def _remove(call: Call, fd: int, name: int) -> int:
    nm = _name_to_change(call, name)
    _may_change(call, fd, nm)
    removexattr_fd(fd, nm)
    return 0


def _on_path(call: Call, path: int, follow: bool, op: Callable[[int], int]) -> int:
    fd = target_fd(call, AT_FDCWD, call.path(path), follow)
    try:
        return op(fd)
    finally:
        os.close(fd)


def _on_held(call: Call, fd: int, op: Callable[[int], int]) -> int:
    ours = held_in_view(call, sint(fd))
    try:
        return op(ours)
    finally:
        os.close(ours)


def sys_setxattr(call: Call, path: int, name: int, value: int, size: int, flags: int) -> int:
    return _on_path(call, path, True, lambda fd: _set(call, fd, name, value, size, sint(flags)))


def sys_lsetxattr(call: Call, path: int, name: int, value: int, size: int, flags: int) -> int:
    return _on_path(call, path, False, lambda fd: _set(call, fd, name, value, size, sint(flags)))


def sys_fsetxattr(call: Call, fd: int, name: int, value: int, size: int, flags: int) -> int:
    return _on_held(call, fd, lambda ours: _set(call, ours, name, value, size, sint(flags)))


def sys_removexattr(call: Call, path: int, name: int) -> int:
    return _on_path(call, path, True, lambda fd: _remove(call, fd, name))


def sys_lremovexattr(call: Call, path: int, name: int) -> int:
    return _on_path(call, path, False, lambda fd: _remove(call, fd, name))


def sys_fremovexattr(call: Call, fd: int, name: int) -> int:
    return _on_held(call, fd, lambda ours: _remove(call, ours, name))
