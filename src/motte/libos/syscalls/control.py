"""ioctl, fcntl and prctl requests outside the ABI's fast set."""

from __future__ import annotations

import errno
import os

from motte.libos.call import CONTINUE, Call, Continue, sint
from motte.libos.syscalls.common import copy_fd

# Terminal and file requests that act on the held fd or on the caller's own
# session inside the sandbox's namespaces.
IOCTL_PASS = {
    0x5409: "TCSBRK",
    0x540A: "TCXONC",
    0x540B: "TCFLSH",
    0x540E: "TIOCSCTTY",
    0x5410: "TIOCSPGRP",
    0x5411: "TIOCOUTQ",
    0x5422: "TIOCNOTTY",
    0x5425: "TCSBRKP",
    0x5429: "TIOCGSID",
    0x5415: "TIOCMGET",
    0x80045430: "TIOCGPTN",
    0x40045431: "TIOCSPTLCK",
    0x5441: "TIOCGPTPEER",
    0x80045432: "TIOCGDEV",
    0x5460: "FIOQSIZE",
    0x80086601: "FS_IOC_GETFLAGS",
    0x40049409: "FICLONE",
    0x4020940D: "FICLONERANGE",
    0x8912: "SIOCGIFCONF",
    0x8913: "SIOCGIFFLAGS",
    0x8915: "SIOCGIFADDR",
    0x8921: "SIOCGIFMTU",
    0x8933: "SIOCGIFINDEX",
    0x8927: "SIOCGIFHWADDR",
    0x5401: "TCGETS",
    0x802C542A: "TCGETS2",
    0x402C542B: "TCSETS2",
    0x402C542C: "TCSETSW2",
    0x402C542D: "TCSETSF2",
    0x5405: "TCGETA",
    0x5406: "TCSETA",
    0x5407: "TCSETAW",
    0x5408: "TCSETAF",
    0x541C: "TIOCLINUX_GET",
}
IOCTL_DENY = {0x5412: "TIOCSTI", 0x541D: "TIOCCONS"}

# No F_SETLEASE (1024): a lease holds back every other opener of the file,
# host programs included, on files the manifest granted only for reading.
FCNTL_PASS = {8, 9, 10, 11, 15, 16, 1031, 1035, 1036, 1037, 1038}
F_GETLEASE, F_SETLEASE, F_UNLCK = 1025, 1024, 2

PRCTL_PASS = {
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    21,
    22,
    23,
    27,
    29,
    30,
    36,
    37,
    38,
    39,
    40,
    41,
    42,
    47,
    0x53564D41,  # PR_SET_VMA
    0x59616D61,  # PR_SET_PTRACER: no tracing exists in the sandbox anyway
}


def sys_ioctl(call: Call, fd: int, req: int, arg: int) -> Continue:
    r = req & 0xFFFFFFFF
    if r in IOCTL_PASS:
        return CONTINUE
    os.close(copy_fd(call, sint(fd)))  # EBADF first, as the kernel checks the fd before the request
    if r in IOCTL_DENY:
        call.os.log_denial(f"ioctl {IOCTL_DENY[r]}")
        raise OSError(errno.EPERM, IOCTL_DENY[r])
    raise OSError(errno.ENOTTY, "inappropriate ioctl")


def sys_fcntl(call: Call, fd: int, cmd: int, arg: int) -> int | Continue:
    cmd = sint(cmd)
    if cmd in FCNTL_PASS:
        return CONTINUE
    os.close(copy_fd(call, sint(fd)))  # EBADF first, as the kernel checks the fd before the command
    if cmd == F_GETLEASE:
        return F_UNLCK  # no lease is ever held in the sandbox
    if cmd == F_SETLEASE:
        call.os.log_denial("fcntl F_SETLEASE")
        raise OSError(errno.EACCES, "leases are not available in the sandbox")
    raise OSError(errno.EINVAL, "unsupported fcntl command")


PR_SET_PDEATHSIG, PR_GET_PDEATHSIG = 1, 2


def sys_prctl(call: Call, option: int, a2: int, a3: int, a4: int, a5: int) -> int | Continue:
    option = sint(option)
    if call.proc.pid == 1 and option in (PR_SET_PDEATHSIG, PR_GET_PDEATHSIG):
        # Pid 1's parent-death signal is what ends the sandbox with motte (its
        # parent is motte's keeper): it stays as it is, and the program sees
        # a value of its own, as the parent it has inside is none.
        if option == PR_SET_PDEATHSIG:
            if not 0 <= sint(a2) <= 64:
                raise OSError(errno.EINVAL, "invalid signal")
            call.proc.pdeathsig = sint(a2)
        else:
            call.write(a2, call.proc.pdeathsig.to_bytes(4, "little"))
        return 0
    if option in PRCTL_PASS:
        return CONTINUE
    raise OSError(errno.EINVAL, "unsupported prctl option")


def sys_arch_prctl(call: Call, code: int, addr: int) -> Continue:
    if sint(code) in (0x1001, 0x1004, 0x1011, 0x1012, 0x3001):  # SET/GET_GS, GET/SET_CPUID, CET status
        return CONTINUE
    raise OSError(errno.EINVAL, "unsupported arch_prctl code")


def sys_personality(call: Call, persona: int) -> Continue:
    p = persona & 0xFFFFFFFF
    if p in (0, 0xFFFFFFFF, 0x0040000):  # PER_LINUX, query, ADDR_NO_RANDOMIZE
        return CONTINUE
    raise OSError(errno.EINVAL, "unsupported personality")
