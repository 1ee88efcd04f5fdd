"""The library OS instance of one sandbox: its state and the services the
system-call handlers share (path lookup, permission checks, owners)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat as st
import time
from collections import Counter
from dataclasses import dataclass, field

from motte.libos.call import Call
from motte.libos.fs import statbuf
from motte.libos.fs.resolve import AT_FDCWD, ProcPath, Resolver, lexically_in_proc
from motte.libos.fs.search import SearchWalk, closed_to_someone
from motte.libos.process import Creds, ProcessTable
from motte.manifest import KernelIdentity
from motte.monitor.hostproc import PicoprocessAccess

R_OK, W_OK, X_OK = 4, 2, 1

# Signals whose default action ends the process (the kernel spares a pid-1
# from these when they come from inside its namespace).
FATAL_BY_DEFAULT = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 24, 25, 26, 27, 29, 30, 31})


@dataclass
class SandboxConfig:
    """What the manifest pins for the program: plain data."""

    hostname: str
    kernel: KernelIdentity
    uid: int
    gid: int
    invoker_uid: int
    invoker_gid: int
    passwd: str
    max_processes: int
    view: list[dict] = field(default_factory=list)  # the mount table, for /proc/mounts
    persisted: bool = False  # the writable layer holds an earlier run's files


@dataclass
class HostNode:
    fd: int  # the library OS's fd; the caller closes it
    path: bytes  # absolute path in the sandbox


@dataclass
class ProcNodeRef:
    rest: list[str]
    follow: bool = True  # whether the last component's symlink is followed


class LibOS:
    def __init__(self, config: SandboxConfig, root_fd: int, scratch_fd: int | None, host: PicoprocessAccess) -> None:
        self.config = config
        self.root_fd = root_fd
        self.scratch_fd = scratch_fd
        self.host = host
        self.resolver = Resolver(root_fd)
        self.procs = ProcessTable(host, Creds.of(config.uid, config.gid, [config.gid]))
        self.ownership: dict[tuple[int, int, int], tuple[int, int]] = {}
        self.user_mounts: set[int] = set()
        # Directories and programs of the sandbox that the kernel would let
        # anyone through or run (it sees one user, their owner) but that are
        # closed to some virtual users (made or chmod'ed so in the sandbox),
        # with their virtual owner; while none is owned by someone else than
        # the caller, and no tree from outside could hold one, the kernel's
        # own checks stand for the virtual ones.
        self.closed: dict[tuple[int, int, int], int] = {}
        self.closed_owners: Counter[int] = Counter()
        self.search = SearchWalk(root_fd, self.virt_owner)
        # When motte runs as host root, host root's files (the system
        # directories' own) are the library OS's too, whatever their mode:
        # the kernel lets it into any of them, so every walk is checked.
        self.search_always = config.invoker_uid == 0
        self.start_time = time.time()
        self.start_monotonic = time.monotonic()
        self.pid1_fatal_signal = 0  # set when pid 1 is ended for a signal it does not handle
        self.log_lines: list[str] = []
        self.log_file = None
        self.unsupported: dict[str, int] = {}
        from motte.libos.fs.procfs import ProcFS

        self.procfs = ProcFS(self)

    # -- pid 1 -----------------------------------------------------------------
    def pid1_dies_of(self, sig: int) -> bool:
        """Would `sig` end the sandbox's pid 1 if it were not pid 1 (default
        action fatal, not caught, ignored or blocked)?"""
        if sig == 9:  # SIGKILL cannot be caught, ignored or blocked
            return True
        if sig not in FATAL_BY_DEFAULT:
            return False
        p1 = self.procs.by_sandbox_pid(1)
        if p1 is None:
            return False
        s = self.host.status(p1.host_pid)
        bit = 1 << (sig - 1)
        return all(not int(s.get(key, "0"), 16) & bit for key in ("SigCgt", "SigIgn", "SigBlk"))

    def end_pid1(self, sig: int) -> None:
        """The sandbox's pid 1 is an ordinary program, not an init: a signal it
        does not handle ends it, as it would outside, and motte reports 128+sig."""
        p1 = self.procs.by_sandbox_pid(1)
        if p1 is not None:
            self.pid1_fatal_signal = sig
            self.host.signal(p1.host_pid, 9)

    def signal_pid1(self, sig: int) -> None:
        """Deliver `sig` to pid 1 as if it were any other process."""
        if self.pid1_dies_of(sig):
            self.end_pid1(sig)
            return
        p1 = self.procs.by_sandbox_pid(1)
        if p1 is not None:
            self.host.signal(p1.host_pid, sig)

    # -- log -----------------------------------------------------------------
    def log(self, line: str) -> None:
        self.log_lines.append(line)
        if len(self.log_lines) > 1000:
            del self.log_lines[:500]
        if self.log_file is not None:
            self.log_file.write(line + "\n")
            self.log_file.flush()

    def log_denial(self, what: str) -> None:
        self.log(f"denied: {what}")

    def log_unsupported(self, nr: int) -> None:
        from motte.kernel.sysnums import NAMES_X86_64

        name = NAMES_X86_64.get(nr, f"syscall_{nr}")
        n = self.unsupported.get(name, 0)
        self.unsupported[name] = n + 1
        if n == 0:
            self.log(f"unsupported: {name} (nr {nr}) answered ENOSYS")

    # -- state -------------------------------------------------------------
    def state(self) -> dict:
        """Everything the library OS holds, as plain serialisable data."""
        return {
            "config": self.config.__dict__ | {"kernel": self.config.kernel.__dict__},
            "processes": [p.state() for p in self.procs.by_host_pid.values()],
            "ownership": [[list(k), list(v)] for k, v in self.ownership.items()],
            "user_mounts": sorted(self.user_mounts),
        }

    def set_owner(self, path: str, uid: int, gid: int) -> None:
        fd = self.resolver.open(path.encode(), os.O_PATH)
        try:
            self.ownership[statbuf.statx_fd(fd).key()] = (uid, gid)
        finally:
            os.close(fd)

    def register_user_mounts(self, targets: list[str]) -> None:
        for t in targets:
            try:
                fd = self.resolver.open(t.encode(), os.O_PATH)
            except OSError:
                continue
            try:
                self.user_mounts.add(statbuf.statx_fd(fd).mnt_id)
            finally:
                os.close(fd)

    # -- paths ---------------------------------------------------------------
    def abspath(self, call: Call, dirfd: int, path: bytes) -> bytes:
        if path.startswith(b"/"):
            return path
        if dirfd == AT_FDCWD:
            base = self.host.readlink(call.tid, "cwd")
        else:
            try:
                base = self.host.readlink(call.tid, f"fd/{dirfd}")
            except FileNotFoundError:
                raise OSError(errno.EBADF, "bad fd") from None
            if base.startswith("/.motte-proc/"):
                base = self.procfs.path_of_dir(base)
        if not base.startswith("/"):
            raise OSError(errno.ENOTDIR, "not a directory")
        if base.endswith(" (deleted)"):
            raise OSError(errno.ENOENT, "directory deleted")
        return (
            base.encode("utf-8", "surrogateescape") + b"/" + path if path else base.encode("utf-8", "surrogateescape")
        )

    def lookup(
        self, call: Call, dirfd: int, path: bytes, flags: int, mode: int = 0, follow: bool = True
    ) -> HostNode | ProcNodeRef:
        """Open `path` (relative to `dirfd` of the caller) with `flags` inside
        the sandbox root. Symlinks are followed unless `follow` is False."""
        if not path:
            raise OSError(errno.ENOENT, "empty path")
        abspath = self.abspath(call, dirfd, path)
        if path.endswith(b"/") or path.rsplit(b"/", 1)[-1] in (b".", b".."):
            follow = True  # "link/", "link/." name the directory the link points to
            flags |= os.O_DIRECTORY if not flags & os.O_PATH else 0
        if not follow:
            flags |= os.O_NOFOLLOW
        self.check_search(call.proc.creds, abspath, follow)
        if not lexically_in_proc(abspath):
            try:
                return HostNode(self.resolver.open(abspath, flags, mode), abspath)
            except OSError as e:
                if e.errno != errno.EACCES:
                    raise
        walked = self.resolver.walk(abspath, follow)
        if isinstance(walked, ProcPath):
            return ProcNodeRef(walked.rest, follow)
        return HostNode(self.resolver.open(walked, flags, mode), walked)

    # -- owners and permissions ------------------------------------------------
    def needs_search_check(self, creds: Creds) -> bool:
        """Whether the kernel's own checks (for the one host user the sandbox
        runs as) could let `creds` through a directory they may not search,
        or run a program they may not run: once the sandbox holds such a
        thing of another user's, or, in trees from outside (the user's
        mounts, a persisted layer, which may hold them already), for any
        user but the sandbox's own, whom the kernel's owner checks stand for."""
        return self.search_always or self.closed_to(creds)

    def closed_to(self, creds: Creds) -> bool:
        """Whether the sandbox holds a directory or program the kernel would
        let `creds` through or run while their virtual permissions do not:
        one closed to others that another virtual user made, or, in trees
        from outside (the user's mounts, a persisted layer), anything, for a
        user but the sandbox's own (whom the kernel's owner checks stand for)."""
        owners = self.closed_owners
        if owners and (len(owners) > 1 or creds.fsuid not in owners):
            return True
        foreign = self.user_mounts or self.config.persisted
        return bool(foreign) and (creds.fsuid, creds.fsgid) != (self.config.uid, self.config.gid)

    def check_rereadable(self, call: Call, addr: int, length: int, what: str) -> None:
        """Before letting the kernel run a call whose path (or sockaddr, or
        fd number) it reads again from the caller: where the virtual users'
        checks are stricter than the kernel's, a racing thread could swap in
        something the library OS refused, so refuse unless nothing else can
        write those bytes (or the caller's fd table)."""
        creds = call.proc.creds
        # (Host root's own closed directories and programs in the system
        # directories, when motte runs as root, are left out here: rare, and
        # counting them would refuse every threaded program's spawn.)
        if not creds.fsuid or not self.closed_to(creds):
            return
        if not self.host.sole_writer(call.proc.host_pid, addr, length, self._immutable):
            self.log_denial(f"{what} by a process whose memory or fds another can change, amid closed files")
            raise OSError(errno.EACCES, f"{what}: arguments could change after the check")

    def check_search(self, creds: Creds, abspath: bytes, follow: bool) -> None:
        """Search permission for `creds` on every directory the walk of
        `abspath` goes through, where the kernel's walk may not stand for it."""
        if creds.fsuid and self.needs_search_check(creds):
            self.search.check(creds.fsuid, creds.fsgid, creds.groups, abspath, follow)

    def _immutable(self, path: str, inode: int) -> bool:
        """Whether `path` of the sandbox is that inode on a read-only mount."""
        try:
            fd = self.resolver.open(path.encode("utf-8", "surrogateescape"), os.O_PATH)
        except OSError:
            return False
        try:
            return os.fstat(fd).st_ino == inode and bool(os.fstatvfs(fd).f_flag & os.ST_RDONLY)
        finally:
            os.close(fd)

    def check_reached(self, call: Call, host_pid: int, fd: int, ours: int) -> None:
        """Search permission on the directories above the file of fd `fd` of
        `host_pid` (`ours` is our copy) when the kernel opened it without a
        walk of ours: an O_PATH descriptor (the kernel re-reads the path of
        such an open, which a racing thread could have rewritten after the
        library OS checked it)."""
        creds = call.proc.creds
        if not creds.fsuid or not self.needs_search_check(creds):
            return
        if not fcntl.fcntl(ours, fcntl.F_GETFL) & os.O_PATH:
            return
        try:
            path = self.host.readlink(host_pid, f"fd/{fd}")
        except OSError:
            return
        if path.startswith("/") and not path.endswith(" (deleted)"):
            self.check_search(creds, path.encode("utf-8", "surrogateescape"), False)

    def note_mode(self, sx: statbuf.Statx, mode: int) -> None:
        """A file was made or given `mode`: keep count of closed ones."""
        key = sx.key()
        self.forget_closed(key)
        if closed_to_someone(st.S_IFMT(sx.mode) | mode):
            owner = self.virt_owner(sx)[0]
            self.closed[key] = owner
            self.closed_owners[owner] += 1

    def forget_closed(self, key: tuple[int, int, int]) -> None:
        owner = self.closed.pop(key, None)
        if owner is not None:
            self.closed_owners[owner] -= 1
            if not self.closed_owners[owner]:
                del self.closed_owners[owner]

    def owner_changed(self, sx: statbuf.Statx) -> None:
        if sx.key() in self.closed:
            self.note_mode(sx, st.S_IMODE(sx.mode))
        self.tree_changed()

    def tree_changed(self) -> None:
        self.search.forget()

    def virt_owner(self, sx: statbuf.Statx) -> tuple[int, int]:
        f = sx.f
        if self.ownership:
            o = self.ownership.get((f[26], f[27], f[8]))
            if o is not None:
                return o
        uid, gid = f[4], f[5]
        if f[28] in self.user_mounts:
            if uid == self.config.invoker_uid:
                uid = self.config.uid
            if gid == self.config.invoker_gid:
                gid = self.config.gid
        return uid, gid

    def virtualise(self, sx: statbuf.Statx) -> statbuf.Statx:
        sx.set_owner(*self.virt_owner(sx))
        return sx

    def may(self, creds: Creds, sx: statbuf.Statx, want: int) -> bool:
        """DAC as the kernel would decide it for the sandbox's credentials."""
        mode = sx.mode
        if creds.fsuid == 0:
            return not (want & X_OK and not st.S_ISDIR(mode) and not mode & 73)
        uid, gid = self.virt_owner(sx)
        if uid == creds.fsuid:
            bits = (mode >> 6) & 7
        elif gid == creds.fsgid or gid in creds.groups:
            bits = (mode >> 3) & 7
        else:
            bits = mode & 7
        return bits & want == want

    def check(self, creds: Creds, sx: statbuf.Statx, want: int) -> None:
        if not self.may(creds, sx, want):
            raise OSError(errno.EACCES, "permission denied")

    def record_owner(self, fd: int, creds: Creds) -> None:
        """A file the sandbox just created belongs to its creator."""
        sx = statbuf.statx_fd(fd)
        if self.virt_owner(sx) != (creds.fsuid, creds.fsgid):
            self.ownership[sx.key()] = (creds.fsuid, creds.fsgid)
        self.note_mode(sx, st.S_IMODE(sx.mode))

    def parent_of(self, call: Call, dirfd: int, path: bytes) -> tuple[HostNode, bytes]:
        """The directory that holds the last component of `path`, opened
        O_PATH, and that component's name."""
        abspath = self.abspath(call, dirfd, path)
        stripped = abspath.rstrip(b"/")
        if not stripped:
            raise OSError(errno.EBUSY, "the root")
        parent, _, name = stripped.rpartition(b"/")
        if name in (b".", b".."):
            raise OSError(errno.EINVAL, "invalid name")
        node = self.lookup(call, AT_FDCWD, parent or b"/", os.O_PATH | os.O_DIRECTORY)
        if isinstance(node, ProcNodeRef):
            raise OSError(errno.EACCES, "/proc is read-only")
        return node, name
