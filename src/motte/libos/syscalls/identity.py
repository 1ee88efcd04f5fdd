"""Users, groups and capabilities: virtual, held by the library OS."""

from __future__ import annotations

import errno
import struct

from motte.libos.call import Call, sint
from motte.libos.syscalls.common import put_u32s


def sys_getuid(call: Call) -> int:
    return call.proc.creds.uid


def sys_geteuid(call: Call) -> int:
    return call.proc.creds.euid


def sys_getgid(call: Call) -> int:
    return call.proc.creds.gid


def sys_getegid(call: Call) -> int:
    return call.proc.creds.egid


def sys_getresuid(call: Call, r: int, e: int, s: int) -> int:
    c = call.proc.creds
    put_u32s(call, (r, e, s), (c.uid, c.euid, c.suid))
    return 0


def sys_getresgid(call: Call, r: int, e: int, s: int) -> int:
    c = call.proc.creds
    put_u32s(call, (r, e, s), (c.gid, c.egid, c.sgid))
    return 0


def sys_getgroups(call: Call, size: int, lst: int) -> int:
    g = call.proc.creds.groups
    size = sint(size)
    if size < 0:
        raise OSError(errno.EINVAL, "invalid size")
    if size == 0:
        return len(g)
    if size < len(g):
        raise OSError(errno.EINVAL, "list too small")
    if g:
        call.write(lst, struct.pack(f"={len(g)}I", *g))
    return len(g)


def sys_setgroups(call: Call, size: int, lst: int) -> int:
    if call.proc.creds.euid != 0:
        raise OSError(errno.EPERM, "not root")
    size = sint(size)
    if size < 0 or size > 65536:
        raise OSError(errno.EINVAL, "invalid size")
    data = call.read(lst, 4 * size) if size else b""
    call.proc.creds.groups = list(struct.unpack(f"={size}I", data))
    return 0


def _setres(call: Call, which: str, r: int, e: int, s: int) -> int:
    c = call.proc.creds
    names = ("uid", "euid", "suid", "fsuid") if which == "uid" else ("gid", "egid", "sgid", "fsgid")
    cur = tuple(getattr(c, n) for n in names[:3])
    new = [sint(r), sint(e), sint(s)]
    if c.euid != 0:
        for v in new:
            if v != -1 and v not in cur:
                raise OSError(errno.EPERM, "not permitted")
    for n, v in zip(names[:3], new, strict=True):
        if v != -1:
            setattr(c, n, v & 0xFFFFFFFF)
    setattr(c, names[3], getattr(c, names[1]))
    return 0


def sys_setresuid(call: Call, r: int, e: int, s: int) -> int:
    return _setres(call, "uid", r, e, s)


def sys_setresgid(call: Call, r: int, e: int, s: int) -> int:
    return _setres(call, "gid", r, e, s)


def sys_setuid(call: Call, uid: int) -> int:
    c = call.proc.creds
    uid = sint(uid)
    if uid < 0:
        raise OSError(errno.EINVAL, "invalid uid")
    if c.euid == 0:
        c.uid = c.euid = c.suid = c.fsuid = uid & 0xFFFFFFFF
    elif uid in (c.uid, c.suid):
        c.euid = c.fsuid = uid
    else:
        raise OSError(errno.EPERM, "not permitted")
    return 0


def sys_setgid(call: Call, gid: int) -> int:
    c = call.proc.creds
    gid = sint(gid)
    if gid < 0:
        raise OSError(errno.EINVAL, "invalid gid")
    if c.euid == 0:
        c.gid = c.egid = c.sgid = c.fsgid = gid & 0xFFFFFFFF
    elif gid in (c.gid, c.sgid):
        c.egid = c.fsgid = gid
    else:
        raise OSError(errno.EPERM, "not permitted")
    return 0


def sys_setreuid(call: Call, r: int, e: int) -> int:
    return _setres(call, "uid", r, e, 0xFFFFFFFF)


def sys_setregid(call: Call, r: int, e: int) -> int:
    return _setres(call, "gid", r, e, 0xFFFFFFFF)


def sys_setfsuid(call: Call, uid: int) -> int:
    c = call.proc.creds
    old = c.fsuid
    uid = sint(uid)
    if uid != -1 and (c.euid == 0 or uid in (c.uid, c.euid, c.suid)):
        c.fsuid = uid & 0xFFFFFFFF
    return old


def sys_setfsgid(call: Call, gid: int) -> int:
    c = call.proc.creds
    old = c.fsgid
    gid = sint(gid)
    if gid != -1 and (c.euid == 0 or gid in (c.gid, c.egid, c.sgid)):
        c.fsgid = gid & 0xFFFFFFFF
    return old


def sys_capget(call: Call, hdr: int, data: int) -> int:
    version = struct.unpack("=I", call.read(hdr, 4))[0]
    if version not in (0x19980330, 0x20071026, 0x20080522):
        call.write(hdr, struct.pack("=I", 0x20080522))
        raise OSError(errno.EINVAL, "unknown capability version")
    if data:
        full = 0xFFFFFFFF if call.proc.creds.euid == 0 else 0
        hi = 0x1FF if call.proc.creds.euid == 0 else 0
        words = 1 if version == 0x19980330 else 2
        payload = struct.pack("=III", full, full, 0) + (struct.pack("=III", hi, hi, 0) if words == 2 else b"")
        call.write(data, payload)
    return 0


def sys_capset(call: Call, hdr: int, data: int) -> int:
    # Capabilities inside are virtual: dropping them is accepted, raising
    # them is only for the virtual root, and nothing reaches the host.
    if call.proc.creds.euid != 0:
        raise OSError(errno.EPERM, "not permitted")
    return 0
