"""Sockets by name. The sandbox has its own network namespace holding only
loopback, and unix socket paths resolve in its own root, so once the family
is checked the kernel itself confines what a socket can reach. A unix socket
path is also checked here for the caller's virtual credentials (search on
the directories above it, and write on the directory a bind creates it in),
which the kernel, seeing one host user, would not."""

from __future__ import annotations

import errno
import os
import stat as st

from motte.libos.call import CONTINUE, Call, Continue, sint
from motte.libos.fs import statbuf
from motte.libos.fs.resolve import AT_FDCWD
from motte.libos.kernel import W_OK, X_OK, ProcNodeRef

SUN_PATH_MAX = 108

AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 1, 2, 10, 16
NETLINK_ROUTE = 0
_ALLOWED = {AF_UNIX, AF_INET, AF_INET6}


def sys_socket(call: Call, domain: int, type_: int, proto: int) -> Continue:
    domain = sint(domain)
    if domain in _ALLOWED or domain == AF_NETLINK and sint(proto) == NETLINK_ROUTE:
        return CONTINUE
    call.os.log_denial(f"socket family {domain}")
    raise OSError(errno.EAFNOSUPPORT, "address family not supported")


def sys_socketpair(call: Call, domain: int, type_: int, proto: int, sv: int) -> Continue:
    if sint(domain) != AF_UNIX:
        raise OSError(errno.EOPNOTSUPP, "only unix socket pairs")
    return CONTINUE


def _unix_path(call: Call, addr: int, addrlen: int) -> bytes:
    """The path of a pathname unix address; b"" for anything else (other
    families, abstract and unnamed addresses), which the kernel handles."""
    addrlen = sint(addrlen)
    if not addr or addrlen < 3:
        return b""
    data = call.read(addr, min(addrlen, 2 + SUN_PATH_MAX))
    if int.from_bytes(data[:2], "little") != AF_UNIX or data[2] == 0:
        return b""
    return data[2:].split(b"\0", 1)[0]


def sys_connect(call: Call, fd: int, addr: int, addrlen: int) -> Continue:
    path = _unix_path(call, addr, addrlen)
    if path:
        lo = call.os
        node = lo.lookup(call, AT_FDCWD, path, os.O_PATH)
        if isinstance(node, ProcNodeRef):
            raise OSError(errno.ECONNREFUSED, "no sockets in /proc")
        try:
            sx = statbuf.statx_fd(node.fd)
        finally:
            os.close(node.fd)
        if not st.S_ISSOCK(sx.mode):
            raise OSError(errno.ECONNREFUSED, "not a socket")
        # (No write-permission check on the socket itself: the kernel made it
        # at bind, so its virtual owner is not recorded; the directories
        # above it, checked by lookup, are what keeps a closed one closed.)
        lo.check_rereadable(call, addr, sint(addrlen), "connect")
    return CONTINUE


def sys_bind(call: Call, fd: int, addr: int, addrlen: int) -> Continue:
    path = _unix_path(call, addr, addrlen)
    if path:
        lo = call.os
        parent, _ = lo.parent_of(call, AT_FDCWD, path)
        try:
            lo.check(call.proc.creds, statbuf.statx_fd(parent.fd), W_OK | X_OK)
        finally:
            os.close(parent.fd)
        lo.check_rereadable(call, addr, sint(addrlen), "bind")
    return CONTINUE
