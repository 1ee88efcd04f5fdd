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
from collections import deque
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
        # (path, follow) -> the directories searched, or () when every one
        # of them lets everyone search it (the common case: nothing to check)
        self.walks: dict[tuple[bytes, bool], tuple[Searched, ...]] = {}
        # a directory path -> (its components, symlinks resolved; the
        # directories searched to reach it; its own entry)
        self.prefixes: dict[bytes, tuple[tuple[str, ...], tuple[Searched, ...], Searched | None]] = {}

    def forget(self) -> None:
        """The tree changed (a name, a mode or an owner): walk afresh."""
        if self.walks:
            self.walks.clear()
        if self.prefixes:
            self.prefixes.clear()

    def check(self, fsuid: int, fsgid: int, groups: list[int], abspath: bytes, follow: bool) -> None:
        """EACCES unless the caller may search every directory the walk of
        `abspath` goes through."""
        walked = self.searched(abspath, follow)
        if walked:
            check_walk(fsuid, fsgid, groups, walked)

    def searched(self, abspath: bytes, follow: bool) -> tuple[Searched, ...]:
        key = (abspath, follow)
        got = self.walks.get(key)
        if got is None:
            walked, whole = self._walk(abspath, follow)
            got = tuple(walked) if any(m & 0o111 != 0o111 for m, _, _ in walked) else ()
            if whole:  # one that stopped at a missing name may go further later
                if len(self.walks) >= _CACHE_MAX:
                    self.walks.clear()
                self.walks[key] = got
        return got

    def _walk(self, abspath: bytes, follow: bool) -> tuple[list[Searched], bool]:
        """The directories searched to reach the last component of `abspath`
        (and, when following, whatever its symlinks point to), and whether
        the walk went all the way. A walk that fails (a missing name, a loop)
        stops there: the open that follows reports the error, after the
        directories up to it were checked. It starts from the path's parent
        directory when that was walked before (most names are new names in
        known directories), and steps from one directory's fd to the next
        (one name at a time, never following a symlink itself), so a path of
        thousands of components costs thousands of steps, not their square."""
        parts = split(abspath)
        n = len(parts)
        state = self.prefixes.get(join(parts[:-1])) if n > 1 else None
        if state is not None:
            done, out, here = list(state[0]), list(state[1]), state[2]
            pending = deque(parts[-1:])
        else:
            done, out, here = [], [], None
            pending = deque(parts)
        cur = self._open(done)
        try:
            if state is None:
                here = self._entry(cur)
            lexical_left = len(pending)  # components of `abspath` itself not yet taken
            links = 0
            while pending:
                if len(pending) == lexical_left:
                    lexical_left -= 1
                c = pending.popleft()
                if here is None or cur < 0:
                    return out, False
                out.append(here)  # looking up `c` searches the directory we are in
                if c == "..":
                    if done:
                        done.pop()
                    os.close(cur)
                    cur = self._open(done)
                    here = self._entry(cur)
                elif not done and c == "proc":
                    return out, True  # procfs: the library OS's own tree, its own checks
                elif not pending and not follow:
                    return out, True
                else:
                    try:
                        fd = os.open(c, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
                    except OSError:
                        return out, False
                    sx = statbuf.statx_fd(fd)
                    if st.S_ISLNK(sx.mode):
                        try:
                            target = os.readlink(b"", dir_fd=fd)
                        finally:
                            os.close(fd)
                        links += 1
                        if links > MAXSYMLINKS:
                            return out, False
                        if target.startswith(b"/"):
                            done = []
                            os.close(cur)
                            cur = self._open(done)
                            here = self._entry(cur)
                        pending.extendleft(reversed(split(target)))
                        continue
                    if not st.S_ISDIR(sx.mode):
                        os.close(fd)
                        return out, not pending  # a file: nothing below it is searched
                    os.close(cur)
                    cur = fd
                    done.append(c)
                    here = (sx.mode, *self.owner_of(sx))
                if len(pending) == lexical_left == 1 or (lexical_left and len(pending) == lexical_left and n <= 32):
                    # a directory named by a prefix of `abspath`, reached whole
                    if len(self.prefixes) >= _CACHE_MAX:
                        self.prefixes.clear()
                    self.prefixes[join(parts[: n - lexical_left])] = (tuple(done), tuple(out), here)
            return out, True
        finally:
            if cur >= 0:
                os.close(cur)

    def _open(self, parts: list[str]) -> int:
        """An O_PATH fd of the directory `parts` (no symlinks in it), or -1."""
        try:
            return openat2(self.root_fd, join(parts), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, 0, _RES)
        except OSError:
            return -1

    def _entry(self, fd: int) -> Searched | None:
        if fd < 0:
            return None
        sx = statbuf.statx_fd(fd)
        return (sx.mode, *self.owner_of(sx))


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
