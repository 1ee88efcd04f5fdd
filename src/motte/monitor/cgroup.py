"""Cgroups for one sandbox (pids and memory), where the host lets motte make
them.

An ordinary invoker's sandbox is bounded by rlimits: the kernel counts
RLIMIT_NPROC per user namespace, and RLIMIT_AS bounds each process's memory.
When motte runs as root, the sandbox's processes are host root's, which the
kernel exempts from RLIMIT_NPROC, and a per-process address-space bound is a
poor total; so under root each bound comes from a cgroup (v2, or v1's pids and
memory hierarchies). The cgroups are removed when the sandbox ends, and empty
ones left behind by a killed motte are removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import time

_V2 = "/sys/fs/cgroup"
PREFIX = "motte-"


def _own_path(controller: str) -> str:
    """This process's cgroup in the hierarchy of `controller` ("" for v2)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if (controller == "" and ctrls == "") or controller in ctrls.split(","):
                return path
    return "/"


def _bases(controller: str) -> str | None:
    """Where a new cgroup with `controller` can be made, or None."""
    if os.path.exists(f"{_V2}/cgroup.controllers"):
        with open(f"{_V2}/cgroup.controllers") as f:
            if controller in f.read().split():
                return os.path.normpath(_V2 + _own_path(""))
        return None
    v1 = f"{_V2}/{controller}"
    if os.path.isdir(v1):
        return os.path.normpath(v1 + _own_path(controller))
    return None


def _sweep(base: str) -> None:
    """Remove the cgroups of motte processes that no longer exist (killed
    before they could clean up); a live motte's cgroup is left alone."""
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            owner = name[len(PREFIX) :]
            if name.startswith(PREFIX) and owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(base, name))


def _make(controller: str, settings: dict[str, str]) -> str | None:
    base = _bases(controller)
    if base is None or not os.access(base, os.W_OK):
        return None
    _sweep(base)
    path = os.path.join(base, f"{PREFIX}{os.getpid()}")
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        for name, value in settings.items():
            with open(os.path.join(path, name), "w") as f:
                f.write(value)
    except OSError:
        with contextlib.suppress(OSError):
            os.rmdir(path)
        return None
    return path


class SandboxCgroups:
    """The sandbox's cgroups: one path per hierarchy (one in all for v2)."""

    def __init__(self, paths: list[str], memory_path: str | None) -> None:
        self.paths = paths
        self.memory_path = memory_path

    @classmethod
    def create(cls, processes: int, memory_mb: int) -> SandboxCgroups | None:
        """None where the host gives no writable controller for a limit asked for."""
        paths: list[str] = []
        memory_path = None
        if processes:
            p = _make("pids", {"pids.max": str(processes)})
            if p is None:
                return None
            paths.append(p)
        if memory_mb:
            v2 = os.path.exists(f"{_V2}/cgroup.controllers")
            setting = {"memory.max": str(memory_mb << 20)} if v2 else {"memory.limit_in_bytes": str(memory_mb << 20)}
            memory_path = _make("memory", setting)
            if memory_path is None:
                cls(paths, None).remove()
                return None
            if memory_path not in paths:
                paths.append(memory_path)
        return cls(paths, memory_path) if paths else None

    def add(self, pid: int) -> None:
        for p in self.paths:
            with open(os.path.join(p, "cgroup.procs"), "w") as f:
                f.write(str(pid))

    def memory_exhausted(self) -> bool:
        """Did the sandbox hit its memory limit (the kernel's OOM killer ran)?"""
        if self.memory_path is None:
            return False
        for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
            with contextlib.suppress(OSError), open(os.path.join(self.memory_path, name)) as f:
                for line in f:
                    k, _, v = line.partition(" ")
                    if k == key and int(v) > 0:
                        return True
        return False

    def remove(self) -> None:
        # The pid namespace's last processes may still be exiting.
        for p in self.paths:
            for _ in range(50):
                try:
                    os.rmdir(p)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
