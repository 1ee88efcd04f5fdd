"""The library OS's state: processes, their credentials, and what the
sandbox as a whole is (identity, ownership of files it created).

Everything here is plain data (dataclasses of ints, strings, lists and
dicts) so that a later checkpoint can serialise it as it is. Per-process
kernel state (memory, fd table, cwd, signal state) stays in the kernel and is
read from /proc/PID when needed; what the library OS adds lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from motte.libos.memory import Memory
from motte.monitor.hostproc import PicoprocessAccess


@dataclass
class Creds:
    uid: int
    euid: int
    suid: int
    fsuid: int
    gid: int
    egid: int
    sgid: int
    fsgid: int
    groups: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, uid: int, gid: int, groups: list[int] | None = None) -> Creds:
        return cls(uid, uid, uid, uid, gid, gid, gid, gid, list(groups or []))

    def copy(self) -> Creds:
        return replace(self, groups=list(self.groups))


@dataclass
class Process:
    """One thread group of the sandbox (threads share it)."""

    host_pid: int  # tgid in the host's pid namespace
    pid: int  # pid in the sandbox
    ppid: int
    creds: Creds
    umask: int = 0o022
    comm: str = ""
    exe: str = ""  # the path it was exec'd by, in the sandbox
    argv: list[str] = field(default_factory=list)
    pdeathsig: int = 0  # pid 1's, as the program set it (the real one stays SIGKILL)
    mem: Memory | None = field(default=None, repr=False, compare=False)
    mem_stale: bool = False

    def memory(self, host: PicoprocessAccess) -> Memory:
        if self.mem is None or self.mem_stale:
            if self.mem is not None:
                self.mem.close()
            self.mem = Memory(host.open_mem(self.host_pid), host.open_maps(self.host_pid))
            self.mem_stale = False
        return self.mem

    def state(self) -> dict:
        """The serialisable part."""
        d = {k: v for k, v in self.__dict__.items() if k not in ("mem", "mem_stale")}
        d["creds"] = self.creds.__dict__.copy()
        return d


class ProcessTable:
    """Host tid -> the sandbox process it belongs to."""

    def __init__(self, host: PicoprocessAccess, initial_creds: Creds) -> None:
        self.host = host
        self.by_host_pid: dict[int, Process] = {}
        self.by_tid: dict[int, Process] = {}
        self.initial_creds = initial_creds
        self._sweep_countdown = 64

    def lookup(self, tid: int) -> Process:
        p = self.by_tid.get(tid)
        if p is not None:
            return p
        st = self.host.status(tid)
        tgid = int(st["Tgid"])
        p = self.by_host_pid.get(tgid)
        if p is None:
            nspid = int(st["NSpid"].split()[-1])
            host_ppid = int(st["PPid"])
            parent = self.by_host_pid.get(host_ppid)
            if parent is None and nspid != 1:
                # Forks are native: the parent may never have trapped yet.
                try:
                    parent = self.lookup(host_ppid)
                except OSError:
                    parent = None
            if parent is not None:
                creds = parent.creds.copy()
                p = Process(
                    tgid,
                    nspid,
                    parent.pid,
                    creds,
                    parent.umask,
                    parent.comm,
                    parent.exe,
                    list(parent.argv),
                )
            else:
                p = Process(tgid, nspid, 0, self.initial_creds.copy())
            self.by_host_pid[tgid] = p
            self._maybe_sweep()
        self.by_tid[tid] = p
        return p

    def by_sandbox_pid(self, pid: int) -> Process | None:
        for p in self.by_host_pid.values():
            if p.pid == pid and self.host.exists(p.host_pid):
                return p
        return None

    def _maybe_sweep(self) -> None:
        """Forget processes that have gone (their host pid may be reused)."""
        self._sweep_countdown -= 1
        if self._sweep_countdown > 0:
            return
        self._sweep_countdown = 64
        for tid in [t for t in self.by_tid if not self.host.exists(t)]:
            del self.by_tid[tid]
            self.host.forget(tid)
        for pid in [h for h in self.by_host_pid if not self.host.exists(h)]:
            proc = self.by_host_pid.pop(pid)
            if proc.mem is not None:
                proc.mem.close()

    def forget_threads_of(self, proc: Process) -> None:
        for tid in [t for t, p in self.by_tid.items() if p is proc and t != proc.host_pid]:
            del self.by_tid[tid]

    def live(self) -> list[Process]:
        return [p for p in self.by_host_pid.values() if self.host.exists(p.host_pid)]
