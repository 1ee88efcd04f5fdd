"""Path resolution inside the sandbox's root.

The fast path hands the whole walk to the kernel: openat2 from the root fd
with RESOLVE_IN_ROOT, so `..` and absolute symlinks stay inside the root
even against a concurrent rename (the kernel re-checks). RESOLVE_NO_MAGICLINKS
keeps /proc-style links out.

/proc is the library OS's own. The kernel's tree holds an unsearchable empty
directory there, so a kernel walk that reaches it, directly or through a
symlink, fails with EACCES; the slow path then walks component by component,
following symlinks itself, and hands whatever lies under /proc to procfs.
"""

from __future__ import annotations

import errno
import os
import stat as st
from dataclasses import dataclass

from motte.kernel.libc import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, openat2

AT_FDCWD = -100
MAXSYMLINKS = 40
_RES = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS


@dataclass
class ProcPath:
    """A path that lies in /proc: procfs resolves `rest` (already free of
    the /proc prefix, may still hold `..` and symlinks of procfs's own)."""

    rest: list[str]


def split(path: bytes) -> list[str]:
    return [c for c in path.decode("utf-8", "surrogateescape").split("/") if c and c != "."]


def join(parts: list[str]) -> bytes:
    return ("/" + "/".join(parts)).encode("utf-8", "surrogateescape")


def lexically_in_proc(abspath: bytes) -> bool:
    return abspath == b"/proc" or abspath.startswith(b"/proc/") or abspath.startswith(b"//proc")


class Resolver:
    def __init__(self, root_fd: int) -> None:
        self.root_fd = root_fd

    def open(self, abspath: bytes, flags: int, mode: int = 0) -> int:
        """openat2 inside the root; EACCES from the /proc placeholder is
        turned into a ProcRedirect by `walk` for callers that need it."""
        return openat2(self.root_fd, abspath, flags | os.O_CLOEXEC, mode, _RES)

    def walk(self, abspath: bytes, follow_last: bool) -> bytes | ProcPath:
        """Resolve symlinks ourselves; return the symlink-free path (the last
        component kept as is when not following) or the /proc remainder."""
        pending = split(abspath)
        done: list[str] = []
        links = 0
        while pending:
            c = pending.pop(0)
            if c == "..":
                if done:
                    done.pop()
                continue
            if not done and c == "proc":
                return ProcPath(pending)
            if not pending and not follow_last:
                done.append(c)
                break
            cand = join(done + [c])
            try:
                fd = openat2(
                    self.root_fd, cand, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, _RES | RESOLVE_NO_SYMLINKS
                )
            except OSError as e:
                if e.errno == errno.ENOENT and not pending:
                    done.append(c)  # a name to create
                    break
                raise
            try:
                s = os.fstat(fd)
                if st.S_ISLNK(s.st_mode):
                    links += 1
                    if links > MAXSYMLINKS:
                        raise OSError(errno.ELOOP, "too many symbolic links")
                    target = os.readlink(b"", dir_fd=fd)
                    if target.startswith(b"/"):
                        done = []
                    pending = split(target) + pending
                elif pending and not st.S_ISDIR(s.st_mode):
                    raise OSError(errno.ENOTDIR, "not a directory")
                else:
                    done.append(c)
            finally:
                os.close(fd)
        return join(done)
