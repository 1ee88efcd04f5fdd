"""The sandbox's /proc, made by the library OS.

Only the sandbox's processes exist here, with their sandbox pids; kernel
identity, hostname and mounts are the manifest's. A file is served as a
sealed memfd holding its text at open time (as procfs does, a read sees one
snapshot); a directory as a small real directory the library OS fills in,
so that getdents64 stays an ABI call.
"""

from __future__ import annotations

import errno
import itertools
import os
import stat as st
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from motte.libos.fs import statbuf
from motte.monitor.hostproc import machine_file

if TYPE_CHECKING:
    from motte.libos.call import Call
    from motte.libos.kernel import LibOS
    from motte.libos.process import Process

FILESYSTEMS = "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevpts\nnodev\toverlay\n\text4\n"


@dataclass
class Node:
    kind: str  # file | dir | link | fdlink
    path: str  # /proc/...
    text: Callable[[], bytes] | None = None
    entries: Callable[[], list[tuple[str, str]]] | None = None  # (name, kind)
    target: Callable[[], str] | None = None
    fd: int = -1  # fdlink: the fd number in the process the link belongs to
    host_pid: int = 0  # fdlink: that process
    owner: tuple[int, int] = (0, 0)
    mode: int = 0o444


class ProcFS:
    def __init__(self, libos: LibOS) -> None:
        self.os = libos
        self._dirs: dict[str, str] = {}  # /.motte-proc/N -> /proc/...
        self._seq = itertools.count(1)

    # -- processes -------------------------------------------------------------
    def _pids(self) -> list[tuple[int, int]]:
        """(sandbox pid, host pid) of every live process of the sandbox."""
        out = []
        for p in self.os.procs.live():
            out.append((p.pid, p.host_pid))
        return sorted(out)

    def _proc(self, call: Call, name: str) -> Process:
        if name == "self":
            return call.proc
        if not (name.isascii() and name.isdigit()):
            raise OSError(errno.ENOENT, "no such process")
        p = self.os.procs.by_sandbox_pid(int(name))
        if p is None:
            raise OSError(errno.ENOENT, "no such process")
        return p

    # -- resolution --------------------------------------------------------------
    def resolve(self, call: Call, rest: list[str], follow: bool) -> Node:
        parts: list[str] = []
        pending = list(rest)
        hops = 0
        while True:
            while pending:
                c = pending.pop(0)
                if c == "..":
                    if parts:
                        parts.pop()
                    else:
                        raise _Escape(pending)
                    continue
                parts.append(c)
                node = self.node(call, parts)
                if node.kind == "link" and (pending or follow):
                    hops += 1
                    if hops > 40:
                        raise OSError(errno.ELOOP, "too many symbolic links")
                    target = node.target()  # type: ignore[misc]
                    if target.startswith("/"):
                        raise _Escape(target.strip("/").split("/") + pending)
                    parts.pop()
                    pending = target.split("/") + pending
                elif pending and node.kind not in ("dir", "link", "fdlink") or node.kind == "fdlink" and pending:
                    raise OSError(errno.ENOTDIR, "not a directory")
            return self.node(call, parts)

    def node(self, call: Call, parts: list[str]) -> Node:
        path = "/proc/" + "/".join(parts) if parts else "/proc"
        if not parts:
            return Node("dir", path, entries=self._root_entries, mode=0o555)
        top = parts[0]
        if len(parts) == 1:
            if top == "self":
                return Node("link", path, target=lambda: str(call.proc.pid), mode=0o777)
            if top == "thread-self":
                return Node("link", path, target=lambda: f"{call.proc.pid}/task/{self._ns_tid(call)}", mode=0o777)
            if top == "mounts":
                return Node("link", path, target=lambda: "self/mounts", mode=0o777)
            f = self._global_files().get(top)
            if f is not None:
                return Node("file", path, text=f)
            if top == "sys":
                return Node("dir", path, entries=lambda: [("kernel", "dir"), ("vm", "dir"), ("fs", "dir")], mode=0o555)
            if top == "net":
                return Node("link", path, target=lambda: "self/net", mode=0o777)
        if top == "sys":
            return self._sys(path, parts[1:])
        proc = self._proc(call, top)
        return self._pid_node(call, proc, path, parts[1:])

    def _ns_tid(self, call: Call) -> int:
        try:
            return int(self.os.host.status(call.tid)["NSpid"].split()[-1])
        except (OSError, KeyError, ValueError):
            return call.proc.pid

    def _root_entries(self) -> list[tuple[str, str]]:
        ents = [(str(pid), "dir") for pid, _ in self._pids()]
        ents += [("self", "link"), ("thread-self", "link"), ("mounts", "link"), ("net", "link"), ("sys", "dir")]
        ents += [(n, "file") for n in self._global_files()]
        return ents

    def _global_files(self) -> dict[str, Callable[[], bytes]]:
        cfg = self.os.config
        k = cfg.kernel
        return {
            "version": lambda: f"{k.sysname} version {k.release} (motte@{cfg.hostname}) {k.version}\n".encode(),
            "uptime": self._uptime,
            "loadavg": lambda: self._host_file("/proc/loadavg"),
            "meminfo": lambda: self._host_file("/proc/meminfo"),
            "cpuinfo": lambda: self._host_file("/proc/cpuinfo"),
            "stat": lambda: self._host_file("/proc/stat"),
            "filesystems": lambda: FILESYSTEMS.encode(),
            "cmdline": lambda: b"motte\n",
        }

    def _host_file(self, path: str) -> bytes:
        return machine_file(path)

    def _uptime(self) -> bytes:
        up = time.monotonic() - self.os.start_monotonic
        return f"{up:.2f} {up * 0.9:.2f}\n".encode()

    def _sys(self, path: str, rest: list[str]) -> Node:
        cfg = self.os.config
        files: dict[str, Callable[[], bytes]] = {
            "kernel/hostname": lambda: (cfg.hostname + "\n").encode(),
            "kernel/domainname": lambda: (cfg.kernel.domainname + "\n").encode(),
            "kernel/osrelease": lambda: (cfg.kernel.release + "\n").encode(),
            "kernel/ostype": lambda: (cfg.kernel.sysname + "\n").encode(),
            "kernel/version": lambda: (cfg.kernel.version + "\n").encode(),
            "kernel/pid_max": lambda: b"4194304\n",
            "kernel/ngroups_max": lambda: b"65536\n",
            "kernel/cap_last_cap": lambda: b"40\n",
            "kernel/random/boot_id": lambda: self._host_file("/proc/sys/kernel/random/boot_id"),
            "kernel/random/uuid": lambda: self._host_file("/proc/sys/kernel/random/uuid"),
            "vm/overcommit_memory": lambda: b"0\n",
            "vm/max_map_count": lambda: b"65530\n",
            "fs/file-max": lambda: b"9223372036854775807\n",
            "fs/nr_open": lambda: b"1048576\n",
            "fs/pipe-max-size": lambda: b"1048576\n",
        }
        key = "/".join(rest)
        if key in files:
            return Node("file", path, text=files[key])
        prefix = key + "/"
        names = sorted({k[len(prefix) :].split("/")[0] for k in files if k.startswith(prefix)})
        if names:
            return Node(
                "dir",
                path,
                entries=lambda: [(n, "file" if prefix + n in files else "dir") for n in names],
                mode=0o555,
            )
        raise OSError(errno.ENOENT, "no such file")

    def _pid_node(self, call: Call, proc: Process, path: str, rest: list[str]) -> Node:
        owner = (proc.creds.uid, proc.creds.gid)
        host = self.os.host
        hp = proc.host_pid
        if not rest:
            names = [
                "cmdline",
                "comm",
                "environ",
                "stat",
                "statm",
                "status",
                "maps",
                "limits",
                "mounts",
                "mountinfo",
                "cgroup",
                "oom_score_adj",
                "loginuid",
            ]
            links = ["cwd", "exe", "root"]
            return Node(
                "dir",
                path,
                owner=owner,
                mode=0o555,
                entries=lambda: (
                    [(n, "file") for n in names]
                    + [(n, "link") for n in links]
                    + [("fd", "dir"), ("fdinfo", "dir"), ("task", "dir")]
                ),
            )
        what = rest[0]
        if len(rest) == 1:
            simple = {
                "cmdline": lambda: host.read(hp, "cmdline"),
                "comm": lambda: host.read(hp, "comm"),
                "environ": lambda: host.read(hp, "environ"),
                "statm": lambda: host.read(hp, "statm"),
                "maps": lambda: host.read(hp, "maps"),
                "limits": lambda: host.read(hp, "limits"),
                "stat": lambda: self._stat(proc),
                "status": lambda: self._status(proc),
                "mounts": self._mounts,
                "mountinfo": self._mountinfo,
                "cgroup": lambda: b"0::/\n",
                "oom_score_adj": lambda: b"0\n",
                "loginuid": lambda: str(proc.creds.uid).encode(),
            }
            if what in simple:
                return Node("file", path, text=simple[what], owner=owner)
            if what == "cwd":
                return Node("link", path, target=lambda: host.readlink(hp, "cwd"), owner=owner, mode=0o777)
            if what == "exe":
                return Node("link", path, target=lambda: host.readlink(hp, "exe"), owner=owner, mode=0o777)
            if what == "root":
                return Node("link", path, target=lambda: "/", owner=owner, mode=0o777)
            if what in ("fd", "fdinfo"):
                return Node(
                    "dir",
                    path,
                    owner=owner,
                    mode=0o500,
                    entries=lambda: [
                        (n, "link" if what == "fd" else "file") for n in sorted(host.listdir(hp, "fd"), key=int)
                    ],
                )
            if what == "task":
                return Node("dir", path, owner=owner, mode=0o555, entries=lambda: [(str(proc.pid), "dir")])
        if what == "fd" and len(rest) == 2 and rest[1].isascii() and rest[1].isdigit():
            n = int(rest[1])
            try:
                target = host.readlink(hp, f"fd/{n}")
            except FileNotFoundError:
                raise OSError(errno.ENOENT, "no such fd") from None
            return Node(
                "fdlink",
                path,
                target=lambda: self._fd_target(hp, n, target),
                fd=n,
                host_pid=hp,
                owner=owner,
                mode=0o700,
            )
        if what == "fdinfo" and len(rest) == 2 and rest[1].isascii() and rest[1].isdigit():
            return Node("file", path, text=lambda: host.read(hp, f"fdinfo/{rest[1]}"), owner=owner)
        if what == "task" and len(rest) >= 2 and rest[1] == str(proc.pid):
            return self._pid_node(call, proc, path, rest[2:])
        raise OSError(errno.ENOENT, "no such file")

    def in_view(self, host_pid: int, fd: int) -> bool:
        """Does the caller's fd name a file of the sandbox's view (its path,
        resolved in the sandbox's root, is the same file)? Pipes, sockets and
        anonymous files count as inside; a host file motte's caller handed in
        as stdio does not."""
        try:
            target = self.os.host.readlink(host_pid, f"fd/{fd}")
        except OSError:
            return False
        if not target.startswith("/") or target.startswith("/.motte-proc/"):
            return True
        try:
            ours = self.os.host.getfd(host_pid, fd)
        except OSError:
            return False
        try:
            a = os.fstat(ours)
            inside = self.os.resolver.open(target.encode("utf-8", "surrogateescape"), os.O_PATH)
            try:
                b = os.fstat(inside)
            finally:
                os.close(inside)
            return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
        except OSError:
            return False
        finally:
            os.close(ours)

    def _fd_target(self, host_pid: int, fd: int, target: str) -> str:
        """What a fd link shows: its path when that path names the same file
        in the sandbox; a stream from outside the view shows no host path."""
        return target if self.in_view(host_pid, fd) else f"motte-host-stream:[{fd}]"

    # -- generated texts -------------------------------------------------------
    def _to_ns(self, host_pid: int) -> int:
        if host_pid == 0:
            return 0
        try:
            return int(self.os.host.status(host_pid)["NSpid"].split()[-1])
        except (OSError, KeyError, ValueError, PermissionError):
            return 0

    def _stat(self, proc: Process) -> bytes:
        raw = self.os.host.read(proc.host_pid, "stat").decode("utf-8", "surrogateescape")
        head, _, tail = raw.rpartition(")")
        fields = tail.split()
        # fields[0] is state; ppid, pgrp, session, tty_nr, tpgid follow.
        for i in (1, 2, 3, 5):
            v = int(fields[i])
            fields[i] = str(self._to_ns(v) if v > 0 else v)
        pid_part = head.split(" (", 1)
        text = f"{proc.pid} ({pid_part[1] if len(pid_part) > 1 else ''}) {' '.join(fields)}\n"
        return text.encode("utf-8", "surrogateescape")

    def _status(self, proc: Process) -> bytes:
        st_ = self.os.host.status(proc.host_pid)
        c = proc.creds
        out = []
        for k, v in st_.items():
            if k in ("Tgid", "Pid", "NStgid", "NSpid"):
                v = str(proc.pid)
            elif k in ("PPid",):
                v = str(self._to_ns(int(v)))
            elif k in ("NSpgid", "NSsid"):
                v = v.split()[-1]
            elif k == "TracerPid":
                v = "0"
            elif k == "Uid":
                v = f"{c.uid}\t{c.euid}\t{c.suid}\t{c.fsuid}"
            elif k == "Gid":
                v = f"{c.gid}\t{c.egid}\t{c.sgid}\t{c.fsgid}"
            elif k == "Groups":
                v = " ".join(str(g) for g in c.groups)
            elif k.startswith("Cap") and k != "CapBnd":
                v = "000001ffffffffff" if c.euid == 0 else "0000000000000000"
            out.append(f"{k}:\t{v}")
        return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")

    def _mounts(self) -> bytes:
        lines = ["motte / tmpfs ro,nosuid 0 0", "proc /proc proc rw,nosuid,nodev,noexec 0 0"]
        for e in self.os.config.view:
            if e["kind"] == "symlink":
                continue
            fstype = {"overlay": "overlay", "scratch": "tmpfs", "bind": "motte", "device": "devtmpfs"}[e["kind"]]
            lines.append(f"{fstype} {e['target']} {fstype} {'ro' if e['readonly'] else 'rw'},nosuid 0 0")
        lines.append("devpts /dev/pts devpts rw,nosuid,noexec 0 0")
        return ("\n".join(lines) + "\n").encode()

    def _mountinfo(self) -> bytes:
        out = []
        for i, line in enumerate(self._mounts().decode().splitlines(), start=20):
            src, target, fstype, opts, _, _ = line.split()
            out.append(f"{i} 1 0:{i} / {target} {opts} - {fstype} {src} {opts}")
        return ("\n".join(out) + "\n").encode("utf-8", "surrogateescape")

    # -- serving -------------------------------------------------------------------
    def stat(self, node: Node) -> statbuf.Statx:
        kind_mode = {"file": st.S_IFREG, "dir": st.S_IFDIR, "link": st.S_IFLNK, "fdlink": st.S_IFLNK}[node.kind]
        ino = (hash(node.path) & 0xFFFFFFF) | 0x10000000
        return statbuf.synthetic(
            kind_mode | node.mode,
            node.owner[0],
            node.owner[1],
            ino=ino,
            nlink=2 if node.kind == "dir" else 1,
            t=self.os.start_time,
        )

    def open_file(self, node: Node) -> int:
        """A sealed memfd holding the file's text."""
        data = node.text()  # type: ignore[misc]
        fd = os.memfd_create("proc", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            os.write(fd, data)
            os.lseek(fd, 0, os.SEEK_SET)
            os.fchmod(fd, 0o444)  # what fstat shows, as a /proc file (a memfd is 0777)
            import fcntl

            fcntl.fcntl(fd, 1033, 0x1 | 0x2 | 0x4 | 0x8)  # F_ADD_SEALS: seal, shrink, grow, write
        except BaseException:
            os.close(fd)
            raise
        return fd

    def open_dir(self, node: Node) -> int:
        """A fresh directory in the library OS's scratch area listing the
        node's entries; its path marks it as a /proc directory."""
        if self.os.scratch_fd is None:
            raise OSError(errno.ENOSYS, "no scratch area")
        name = str(next(self._seq))
        base = f".motte-proc/{name}"
        os.mkdir(base, 0o755, dir_fd=self.os.scratch_fd)
        dfd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=self.os.scratch_fd)
        for ename, kind in node.entries():  # type: ignore[misc]
            try:
                if kind == "dir":
                    os.mkdir(ename, 0o555, dir_fd=dfd)
                elif kind == "link":
                    os.symlink("/", ename, dir_fd=dfd)
                else:
                    os.close(os.open(ename, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o444, dir_fd=dfd))
            except OSError:
                pass
        self._dirs["/" + base] = node.path
        if len(self._dirs) > 256:
            self._gc()
        return dfd

    def path_of_dir(self, marked: str) -> str:
        p = self._dirs.get(marked)
        if p is None:
            raise OSError(errno.ENOENT, "stale /proc directory")
        return p

    def _gc(self) -> None:
        import shutil

        for marked in list(self._dirs)[:128]:
            del self._dirs[marked]
            shutil.rmtree(marked.lstrip("/"), dir_fd=self.os.scratch_fd, ignore_errors=True)


class _Escape(Exception):
    """A /proc path that leaves /proc (`..` above it or an absolute link):
    the caller resumes the walk in the root with `rest`."""

    def __init__(self, rest: list[str]) -> None:
        self.rest = rest
