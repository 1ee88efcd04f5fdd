"""The sandbox's view: which host directories appear at which sandbox paths.

`plan_view` turns the manifest into a list of `ViewEntry`s. The monitor opens
each host source once (`open_sources`) and the sandbox's first process builds
its kernel-visible root from exactly these entries and nothing else
(`monitor.rootfs`). The library OS only ever sees file descriptors inside
that root.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from motte.errors import UsageError
from motte.manifest import Manifest
from motte.monitor.identity import Identity

# Character devices the sandbox's /dev passes through from the host: each is
# stateless or per-opener and reveals nothing of the host.
PASSTHROUGH_DEVICES = ("null", "zero", "full", "random", "urandom")


@dataclass
class ViewEntry:
    target: str  # path in the sandbox
    kind: str  # bind | overlay | scratch | symlink | device
    source: str = ""  # host path (bind, overlay, device) or link text (symlink) or scratch name
    readonly: bool = True
    mode: int = 0o755  # for scratch directories
    owned_by_user: bool = False  # files owned by the invoker appear owned by the sandbox user
    home: bool = False  # the user's home: the directory itself belongs to the user
    hidden: list[str] = field(default_factory=list)  # overlay: paths (relative) whited out
    # overlay: also white out whatever below is not world-readable, found by
    # pid 1 as it builds the root (a scan of /etc: milliseconds, spent there
    # beside motte's own start-up rather than before it)
    hide_unreadable: bool = False
    generated: dict[str, str] = field(default_factory=dict)  # overlay: relative path -> content


def unreadable_under(root: str, rel: str = "") -> list[str]:
    """Entries below `root` that are not world-readable (or, for directories,
    not world-searchable): a world-readable view must not show them."""
    hidden: list[str] = []
    try:
        it = os.scandir(os.path.join(root, rel) if rel else root)
    except OSError:
        return hidden
    with it:
        for e in it:
            try:
                mode = e.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISLNK(mode):
                continue
            name = f"{rel}/{e.name}" if rel else e.name
            if stat.S_ISDIR(mode):
                if mode & 0o005 != 0o005:
                    hidden.append(name)
                else:
                    hidden.extend(unreadable_under(root, name))
            elif not mode & stat.S_IROTH:
                hidden.append(name)
    return hidden


def etc_files(m: Manifest, ident: Identity) -> dict[str, str]:
    hosts = f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{m.hostname}\n"
    return {
        "hostname": m.hostname + "\n",
        "hosts": hosts,
        "passwd": ident.passwd(),
        "group": ident.group(),
        "resolv.conf": "",
        "mtab": "",
    }


def plan_view(m: Manifest, ident: Identity) -> list[ViewEntry]:
    entries: list[ViewEntry] = []
    for d in m.system_dirs:
        d = os.path.normpath(d)
        if not os.path.lexists(d):
            continue
        st = os.lstat(d)
        if stat.S_ISLNK(st.st_mode):
            entries.append(ViewEntry(d, "symlink", os.readlink(d)))
        elif stat.S_ISDIR(st.st_mode):
            e = ViewEntry(d, "overlay", d, readonly=not m.writable_layer)
            if d == "/etc":
                e.hide_unreadable = True
                e.generated = etc_files(m, ident)
            entries.append(e)
    if not any(e.target == "/etc" for e in entries):
        # The generated files are part of every view, even one without /etc.
        entries.append(ViewEntry("/etc", "scratch", "etc", readonly=False, generated=etc_files(m, ident)))
    entries.append(ViewEntry("/tmp", "scratch", "tmp", readonly=False, mode=0o1777))
    if ident.home not in ("/", ""):
        entries.append(ViewEntry(ident.home, "scratch", "home", readonly=False, mode=0o755, home=True))
    entries.append(ViewEntry("/dev/shm", "scratch", "shm", readonly=False, mode=0o1777))
    for dev in PASSTHROUGH_DEVICES:
        # Read-only binds: writing to a device is unaffected (the kernel's
        # read-only check is for files and directories), but its host inode's
        # mode, owner and times cannot be changed from inside.
        entries.append(ViewEntry(f"/dev/{dev}", "device", f"/dev/{dev}", readonly=True))
    for mt in m.mounts:
        src = os.path.abspath(mt.host)
        if not os.path.exists(src):
            raise UsageError(f"--mount {mt.host}: host path does not exist")
        entries.append(
            ViewEntry(os.path.normpath(mt.sandbox), "bind", src, readonly=(mt.mode == "ro"), owned_by_user=True)
        )
    return entries


def open_sources(entries: list[ViewEntry]) -> dict[str, int]:
    """Open every host source the view names (O_PATH), once, by the monitor:
    these fds are the only way any later step reaches a host file."""
    fds: dict[str, int] = {}
    for e in entries:
        if e.kind in ("bind", "overlay", "device") and e.source not in fds:
            try:
                fds[e.source] = os.open(e.source, os.O_PATH | os.O_CLOEXEC)
            except OSError as err:
                raise UsageError(f"mount source {e.source}: {err.strerror}") from None
    return fds
