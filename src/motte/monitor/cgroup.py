"""A pids cgroup for one sandbox, where the host lets motte make one.

RLIMIT_NPROC already bounds a sandbox run by an ordinary user (the kernel
counts its processes per user namespace), but the kernel exempts uid 0 of
the host from it; when motte runs as root, the sandbox's processes are
host root's, so the bound comes from a pids cgroup instead (v2, or v1's pids
hierarchy). The cgroup is removed when the sandbox ends, and an empty one
left behind by a killed motte is removed by the next run.
"""

from __future__ import annotations

import contextlib
import os
import time

_V2 = "/sys/fs/cgroup"
_V1 = "/sys/fs/cgroup/pids"
PREFIX = "motte-"


def _own_path(hierarchy_line_match: str) -> str:
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if ctrls == hierarchy_line_match:
                return path
    return "/"


def _base() -> str | None:
    if os.path.exists(f"{_V2}/cgroup.controllers"):
        with open(f"{_V2}/cgroup.controllers") as f:
            if "pids" in f.read().split():
                return os.path.normpath(_V2 + _own_path(""))
        return None
    if os.path.isdir(_V1):
        return os.path.normpath(_V1 + _own_path("pids"))
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


class PidsCgroup:
    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def create(cls, limit: int) -> PidsCgroup | None:
        """None where the host gives no writable pids controller."""
        base = _base()
        if base is None or not os.access(base, os.W_OK):
            return None
        _sweep(base)
        path = os.path.join(base, f"{PREFIX}{os.getpid()}")
        try:
            os.mkdir(path)
            with open(os.path.join(path, "pids.max"), "w") as f:
                f.write(str(limit))
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            return None
        return cls(path)

    def add(self, pid: int) -> None:
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def remove(self) -> None:
        # The pid namespace's last processes may still be exiting.
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)
