"""Sockets by name. The sandbox has its own network namespace holding only
loopback, and unix socket paths resolve in its own root, so once the family
is checked the kernel itself confines what a socket can reach."""

from __future__ import annotations

import errno

from motte.libos.call import CONTINUE, Call, Continue, sint

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
