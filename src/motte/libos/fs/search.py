"""Search permission on every directory a path walks through, for the
sandbox's virtual users.

The kernel checks search (x) permission on each directory of a path, but
for the library OS's credentials: one host user, the owner of every file of
the writable layer and of the user's mounts. The sandbox's users are
virtual, so the kernel's walk lets uid 1000 through a directory the
sandbox's root made 0700. This module walks a path component by component
(as `Resolver.walk` does, following symlinks, taking `..` after the
directory it leaves) and lists the directories searched, with their virtual
owners, so that the caller's credentials can be checked against each.

Walks are cached per path until the file tree changes (every change to names,
modes and owners in the sandbox goes through the library OS, which serves
one call at a time, so a check and the open after it see the same tree).
The library OS asks only when it matters: for a caller other than root, once
a directory closed to someone else exists (see `LibOS.needs_search_check`).
"""

from __future__ import annotations

import errno
import os
import stat as st
from collections.abc import Callable

from motte.kernel.libc import RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, openat2
from motte.libos.fs import statbuf
from motte.libos.fs.resolve import MAXSYMLINKS, join, split

_RES = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS
_CACHE_MAX = 20000

# (mode, virtual uid, virtual gid) of one directory searched
Searched = tuple[int, int, int]


def closed_to_someone(mode: int) -> bool:
    """A directory its owner may search, or a program its owner may run, that
    others may not (group or others lack x): the kernel, which sees the
    sandbox's one host user as the owner of everything, would let anyone."""
    return (st.S_ISDIR(mode) or st.S_ISREG(mode)) and bool(mode & 0o100) and mode & 0o011 != 0o011


class SearchWalk:
    def __init__(self, root_fd: int, owner_of: Callable[[statbuf.Statx], tuple[int, int]]) -> None:
        self.root_fd = root_fd
        self.owner_of = owner_of
        self.walks: dict[tuple[bytes, bool], tuple[Searched, ...]] = {}

    def forget(self) -> None:
        """The tree changed (a name, a mode or an owner): walk afresh."""
        if self.walks:
            self.walks.clear()

    def searched(self, abspath: bytes, follow: bool) -> tuple[Searched, ...]:
        key = (abspath, follow)
        got = self.walks.get(key)
        if got is None:
            if len(self.walks) >= _CACHE_MAX:
                self.walks.clear()
            got = self.walks[key] = tuple(self._walk(abspath, follow))
        return got

    def _walk(self, abspath: bytes, follow: bool) -> list[Searched]:
        """The directories searched to reach the last component of `abspath`
        (and, when following, whatever its symlinks point to). A walk that
        fails (a missing name, a loop) stops there: the open that follows
        reports the error, after the directories up to it were checked."""
        pending = split(abspath)
        done: list[str] = []
        out: list[Searched] = []
        links = 0
        here = self._dir(done)
        while pending:
            c = pending.pop(0)
            if here is None:
                break
            out.append(here)  # looking up `c` searches the directory we are in
            if c == "..":
                if done:
                    done.pop()
                here = self._dir(done)
                continue
            if not done and c == "proc":
                break  # procfs: the library OS's own tree, its own checks
            if not pending and not follow:
                break
            try:
                fd = openat2(self.root_fd, join(done + [c]), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, _RES)
            except OSError:
                break
            try:
                sx = statbuf.statx_fd(fd)
                if st.S_ISLNK(sx.mode):
                    links += 1
                    if links > MAXSYMLINKS:
                        break
                    target = os.readlink(b"", dir_fd=fd)
                    if target.startswith(b"/"):
                        done = []
                        here = self._dir(done)
                    pending = split(target) + pending
                    continue
            finally:
                os.close(fd)
            if not st.S_ISDIR(sx.mode):
                break  # a file: nothing below it is searched
            done.append(c)
            here = (sx.mode, *self.owner_of(sx))
        return out

    def _dir(self, parts: list[str]) -> Searched | None:
        try:
            fd = openat2(self.root_fd, join(parts), os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, 0, _RES)
        except OSError:
            return None
        try:
            sx = statbuf.statx_fd(fd)
        finally:
            os.close(fd)
        return (sx.mode, *self.owner_of(sx)) if st.S_ISDIR(sx.mode) else None


def may_search(fsuid: int, fsgid: int, groups: list[int], d: Searched) -> bool:
    mode, uid, gid = d
    if fsuid == uid:
        return bool(mode & 0o100)
    if fsgid == gid or gid in groups:
        return bool(mode & 0o010)
    return bool(mode & 0o001)


def check_walk(fsuid: int, fsgid: int, groups: list[int], walked: tuple[Searched, ...]) -> None:
    for d in walked:
        if not may_search(fsuid, fsgid, groups, d):
            raise OSError(errno.EACCES, "search permission denied on a directory of the path")
