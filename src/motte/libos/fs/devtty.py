"""/dev/tty: the caller's controlling terminal, if it has one.

The kernel's /dev/tty would resolve against whoever opens it, and the
library OS opens files on the caller's behalf; so it finds the caller's
controlling terminal itself (a pty of the sandbox's own devpts) and opens
that. No controlling terminal: ENXIO, as on Linux.
"""

from __future__ import annotations

import errno
import os
import stat as st

from motte.libos.fs import statbuf

PATH = b"/dev/tty"
_PTS_MAJORS = range(136, 144)


def ctty_path(libos, tid: int) -> bytes:  # noqa: ANN001 - LibOS, avoided import cycle
    raw = libos.host.read(tid, "stat").decode("utf-8", "surrogateescape")
    tty_nr = int(raw.rpartition(")")[2].split()[4])
    major, minor = (tty_nr >> 8) & 0xFFF, (tty_nr & 0xFF) | ((tty_nr >> 12) & 0xFFF00)
    if tty_nr == 0 or major not in _PTS_MAJORS:
        raise OSError(errno.ENXIO, "no controlling terminal")
    return b"/dev/pts/%d" % ((major - 136) * 256 + minor)


def open_tty(libos, tid: int, flags: int) -> int:  # noqa: ANN001
    return libos.resolver.open(ctty_path(libos, tid), flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW))


def stat_tty() -> statbuf.Statx:
    sx = statbuf.synthetic(st.S_IFCHR | 0o666, 0, 5, ino=0x7FFF0001)
    sx.set_rdev(5, 0)
    return sx
