"""The manifest: the single statement of what a sandbox sees and may touch.

Every command-line option has a manifest key (docs/manifest.md). The manifest
is parsed strictly: an unknown key or a value of the wrong type is an error
that names the key, and nothing is started.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from motte.errors import UsageError

DEFAULT_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Mount:
    host: str
    sandbox: str
    mode: str = "ro"  # "ro" | "rw"


@dataclass
class KernelIdentity:
    """What uname(2) and /proc/version report: pinned, whatever the host runs."""

    sysname: str = "Linux"
    release: str = "6.1.0-motte"
    version: str = "#1 SMP PREEMPT_DYNAMIC motte"
    machine: str = "x86_64"
    domainname: str = "(none)"


@dataclass
class Limits:
    memory_mb: int = 0  # 0: unlimited (RLIMIT_AS is not set)
    processes: int = 512  # RLIMIT_NPROC-like cap on live sandbox processes
    open_files: int = 1024  # RLIMIT_NOFILE
    cpu_seconds: int = 0  # RLIMIT_CPU, 0: unlimited
    writable_layer_mb: int = 1024  # size of the scratch tmpfs
    wall_seconds: int = 0  # 0: unlimited
    # "auto": the library OS and the program share one CPU (a trapped call
    # then costs two context switches and no cross-CPU wake-up); "all": no
    # pinning (parallel programs keep every CPU); or a list like "0,2-3".
    cpus: str = "auto"


@dataclass
class Manifest:
    argv: list[str] = field(default_factory=list)
    workdir: str = ""  # default: the user's home
    env: dict[str, str] = field(default_factory=dict)
    user: str = "user"  # a name known to the sandbox, or a uid
    tty: bool = False
    interactive: bool = False
    mounts: list[Mount] = field(default_factory=list)
    system_dirs: list[str] = field(default_factory=lambda: list(DEFAULT_SYSTEM_DIRS))
    writable_layer: bool = True
    persist: str = ""
    hostname: str = "motte"
    kernel: KernelIdentity = field(default_factory=KernelIdentity)
    limits: Limits = field(default_factory=Limits)
    trace: str = ""
    debug: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The manifest's schema: section.key -> (attribute path, expected type).
_SCHEMA: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "process.argv": ("argv", list),
    "process.workdir": ("workdir", str),
    "process.env": ("env", dict),
    "process.user": ("user", (str, int)),
    "process.tty": ("tty", bool),
    "process.interactive": ("interactive", bool),
    "view.system_dirs": ("system_dirs", list),
    "view.writable_layer": ("writable_layer", bool),
    "view.persist": ("persist", str),
    "identity.hostname": ("hostname", str),
    "identity.kernel.sysname": ("kernel.sysname", str),
    "identity.kernel.release": ("kernel.release", str),
    "identity.kernel.version": ("kernel.version", str),
    "identity.kernel.machine": ("kernel.machine", str),
    "identity.kernel.domainname": ("kernel.domainname", str),
    "limits.memory_mb": ("limits.memory_mb", int),
    "limits.processes": ("limits.processes", int),
    "limits.open_files": ("limits.open_files", int),
    "limits.cpu_seconds": ("limits.cpu_seconds", int),
    "limits.writable_layer_mb": ("limits.writable_layer_mb", int),
    "limits.wall_seconds": ("limits.wall_seconds", int),
    "limits.cpus": ("limits.cpus", str),
    "debug.trace": ("trace", str),
}
_MOUNT_KEYS = {"host": str, "sandbox": str, "mode": str}


def schema_keys() -> list[str]:
    return sorted(_SCHEMA) + [f"mounts[].{k}" for k in _MOUNT_KEYS]


def _set(m: Manifest, attr: str, value: Any) -> None:
    obj: Any = m
    parts = attr.split(".")
    for p in parts[:-1]:
        obj = getattr(obj, p)
    setattr(obj, parts[-1], value)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and key not in ("process.env",) and not key.startswith("process.env."):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def load_manifest(path: str) -> Manifest:
    """Parse a TOML manifest file; raise UsageError naming the bad key."""
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise UsageError(f"--manifest {path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"manifest {path}: not valid TOML: {e}") from None
    except OSError as e:
        raise UsageError(f"--manifest {path}: {e.strerror}") from None
    return manifest_from_dict(data, path)


def manifest_from_dict(data: dict[str, Any], source: str = "manifest") -> Manifest:
    m = Manifest()
    mounts = data.pop("mounts", [])
    for key, value in _flatten(data).items():
        if key not in _SCHEMA:
            raise UsageError(f"{source}: unknown key '{key}'")
        attr, typ = _SCHEMA[key]
        if isinstance(value, bool) and typ is int:
            raise UsageError(f"{source}: key '{key}' must be an integer")
        if not isinstance(value, typ):
            tname = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            raise UsageError(f"{source}: key '{key}' must be {tname}, not {type(value).__name__}")
        if key == "process.env":
            for k, v in value.items():
                if not isinstance(v, str):
                    raise UsageError(f"{source}: key 'process.env.{k}' must be a string")
        if key in ("process.argv", "view.system_dirs") and not all(isinstance(x, str) for x in value):
            raise UsageError(f"{source}: key '{key}' must be a list of strings")
        if isinstance(typ, type) and typ is int and value < 0:
            raise UsageError(f"{source}: key '{key}' must not be negative")
        _set(m, attr, str(value) if key == "process.user" else value)
    if not isinstance(mounts, list):
        raise UsageError(f"{source}: key 'mounts' must be an array of tables ([[mounts]])")
    for i, entry in enumerate(mounts):
        if not isinstance(entry, dict):
            raise UsageError(f"{source}: key 'mounts[{i}]' must be a table")
        for k, v in entry.items():
            if k not in _MOUNT_KEYS:
                raise UsageError(f"{source}: unknown key 'mounts[{i}].{k}'")
            if not isinstance(v, str):
                raise UsageError(f"{source}: key 'mounts[{i}].{k}' must be a string")
        for k in ("host", "sandbox"):
            if k not in entry:
                raise UsageError(f"{source}: key 'mounts[{i}].{k}' is required")
        m.mounts.append(Mount(entry["host"], entry["sandbox"], entry.get("mode", "ro")))
    return m


def parse_mount_option(spec: str) -> Mount:
    """HOST:SANDBOX[:ro|rw] from --mount."""
    parts = spec.split(":")
    if len(parts) == 3 and parts[2] in ("ro", "rw"):
        return Mount(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        return Mount(parts[0], parts[1], "ro")
    raise UsageError(f"--mount {spec}: expected HOST:SANDBOX[:ro|rw]")


def validate(m: Manifest) -> None:
    """Checks that need the whole manifest; each error names the key."""
    if not m.argv:
        raise UsageError("no program given (motte run [OPTIONS] -- PROGRAM [ARGS...])")
    for i, mt in enumerate(m.mounts):
        if mt.mode not in ("ro", "rw"):
            raise UsageError(f"mounts[{i}].mode: '{mt.mode}' is not ro or rw")
        if not mt.sandbox.startswith("/"):
            raise UsageError(f"mounts[{i}].sandbox: '{mt.sandbox}' is not an absolute path")
        norm = os.path.normpath(mt.sandbox)
        if norm == "/" or norm.split("/")[1] in ("proc", "dev"):
            raise UsageError(f"mounts[{i}].sandbox: cannot mount over '{norm}'")
        if not os.path.lexists(mt.host):
            raise UsageError(f"mounts[{i}].host: '{mt.host}' does not exist on the host")
    for d in m.system_dirs:
        if not d.startswith("/"):
            raise UsageError(f"view.system_dirs: '{d}' is not an absolute path")
    if m.workdir and not m.workdir.startswith("/"):
        raise UsageError(f"process.workdir: '{m.workdir}' is not an absolute path")
    if not m.hostname or len(m.hostname) > 64 or "/" in m.hostname:
        raise UsageError(f"identity.hostname: '{m.hostname}' is not a valid host name")
    cpu_set(m.limits.cpus)  # raises UsageError naming the key
    if m.limits.writable_layer_mb < 1:
        raise UsageError("limits.writable_layer_mb: must be at least 1")


def cpu_set(spec: str) -> set[int] | None:
    """The CPUs `limits.cpus` names, within those motte may use; None: all."""
    allowed = os.sched_getaffinity(0)
    if spec == "all":
        return None
    if spec == "auto":
        cpus = sorted(allowed)
        return {cpus[os.getpid() % len(cpus)]}
    out: set[int] = set()
    try:
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise UsageError(f"limits.cpus: '{spec}' is not auto, all or a CPU list like 0,2-3") from None
    if not out or not out <= allowed:
        raise UsageError(f"limits.cpus: '{spec}' names CPUs this machine does not offer ({sorted(allowed)})")
    return out
