"""Builds the kernel-visible root of a sandbox, inside its new mount namespace.

Runs in the sandbox's first process (pid 1 of the new pid namespace, uid 0 of
the new user namespace, before it drops every capability). The root is a
small read-only tmpfs holding mount points, symlinks and the entries of the
view; nothing of the host exists in it beyond what the view names. Host
sources are reached only through the O_PATH fds the monitor opened.
"""

from __future__ import annotations

import contextlib
import os

from motte.kernel import libc
from motte.monitor.view import ViewEntry, open_sources, unreadable_under

STAGE = "/tmp"  # private to this mount namespace; hides nothing the view needs
PROC_PLACEHOLDER_MODE = 0o000


def _fdpath(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def _makedirs(path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)


def _mountpoint(root: str, target: str, is_dir: bool) -> str:
    p = root + target
    if is_dir:
        _makedirs(p)
    else:
        _makedirs(os.path.dirname(p))
        if not os.path.lexists(p):
            os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644))
    return p


def _key(target: str) -> str:
    return target.strip("/").replace("/", "_") or "root"


def _bind(src: str, dst: str, readonly: bool, rec: bool = True) -> None:
    libc.mount(src, dst, None, libc.MS_BIND | (libc.MS_REC if rec else 0))
    flags = libc.MS_BIND | libc.MS_REMOUNT | libc.MS_NOSUID
    if readonly:
        flags |= libc.MS_RDONLY
    libc.mount("none", dst, None, flags)


def build_root(
    entries: list[ViewEntry],
    scratch_mb: int,
    persist: str | None,
    user_uid: int,
    user_gid: int,
) -> int:
    """Assemble the root and pivot into it; return an O_PATH fd on the
    scratch area (outside the root). Raises OSError on any failure."""
    libc.mount("none", "/", None, libc.MS_REC | libc.MS_PRIVATE)
    # Sources are opened here, in the new mount namespace (the kernel refuses
    # to overlay or bind a mount of another namespace), and before the stage
    # covers /tmp, in case a source lies below it.
    source_fds = open_sources(entries)
    if persist:
        libc.mount(persist, STAGE, None, libc.MS_BIND)
    else:
        libc.mount("motte-scratch", STAGE, "tmpfs", libc.MS_NOSUID | libc.MS_NODEV, f"size={scratch_mb}m,mode=0755")
    root = STAGE + "/.root"
    _makedirs(root)
    libc.mount("motte-root", root, "tmpfs", libc.MS_NOSUID, "size=4m,mode=0755")

    for e in sorted(entries, key=lambda e: e.target.count("/")):
        if e.kind == "symlink":
            _makedirs(os.path.dirname(root + e.target))
            os.symlink(e.source, root + e.target)
        elif e.kind == "overlay":
            key = _key(e.target)
            upper, work = f"{STAGE}/upper/{key}", f"{STAGE}/work/{key}"
            _makedirs(upper)
            _makedirs(work)
            hidden = e.hidden + (unreadable_under(_fdpath(source_fds[e.source])) if e.hide_unreadable else [])
            _whiteouts(upper, hidden)
            _write_generated(upper, e.generated)
            dst = _mountpoint(root, e.target, True)
            opts = f"lowerdir={_fdpath(source_fds[e.source])},upperdir={upper},workdir={work},userxattr"
            libc.mount("overlay", dst, "overlay", libc.MS_NOSUID | (libc.MS_RDONLY if e.readonly else 0), opts)
        elif e.kind == "scratch":
            src = f"{STAGE}/{e.source}"
            new = not os.path.exists(src)
            _makedirs(src)
            if new:
                os.chmod(src, e.mode)
            _write_generated(src, e.generated)
            _bind(src, _mountpoint(root, e.target, True), e.readonly)
        elif e.kind in ("bind", "device"):
            fd = source_fds[e.source]
            is_dir = os.path.isdir(_fdpath(fd))
            _bind(_fdpath(fd), _mountpoint(root, e.target, is_dir), e.readonly)
        else:  # pragma: no cover
            raise ValueError(f"unknown view entry kind {e.kind}")

    _makedirs(root + "/dev/pts")
    libc.mount(
        "devpts", root + "/dev/pts", "devpts", libc.MS_NOSUID | libc.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"
    )
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ):
        if not os.path.lexists(f"{root}/dev/{name}"):
            os.symlink(target, f"{root}/dev/{name}")
    # /dev/tty is served by the library OS (the caller's controlling
    # terminal); the root keeps an empty file so that it is listed.
    _mountpoint(root, "/dev/tty", False)
    # /proc is served by the library OS. The kernel's tree keeps an empty,
    # unsearchable directory there, so that any kernel walk into it fails
    # with EACCES and the library OS takes over that path.
    _makedirs(root + "/proc")
    os.chmod(root + "/proc", PROC_PLACEHOLDER_MODE)
    libc.mount("none", root, None, libc.MS_REMOUNT | libc.MS_RDONLY | libc.MS_NOSUID)
    for fd in source_fds.values():
        os.close(fd)
    os.makedirs(STAGE + "/.motte-proc", mode=0o755, exist_ok=True)
    scratch = os.open(STAGE, os.O_PATH | os.O_DIRECTORY)
    os.chdir(root)
    libc.pivot_root(".", ".")
    libc.umount2(".", libc.MNT_DETACH)
    os.chdir("/")
    return scratch


# The upper layers may be a --persist directory that an earlier run of the
# sandbox wrote into: nothing below is done through a path that could hold a
# symlink the sandbox planted. Every step is relative to a directory fd
# opened with O_NOFOLLOW, so a planted link is never followed onto the host.
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _subdir(base: str, parts: list[str]) -> int | None:
    """An fd on base/parts..., made as needed; None if a part is not a real
    directory (the sandbox put something else there)."""
    fd = os.open(base, _DIR)
    for part in parts:
        with contextlib.suppress(FileExistsError):
            os.mkdir(part, 0o755, dir_fd=fd)
        try:
            nfd = os.open(part, _DIR, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = nfd
    return fd


def _whiteouts(upper: str, hidden: list[str]) -> None:
    for rel in hidden:
        *parents, name = rel.split("/")
        fd = _subdir(upper, parents)
        if fd is None:  # replaced by the sandbox: the lower entry is shadowed anyway
            continue
        try:
            os.mknod(name, 0o020000, 0, dir_fd=fd)  # a whiteout: char device 0/0
        except FileExistsError:
            pass
        finally:
            os.close(fd)


def _write_generated(directory: str, files: dict[str, str]) -> None:
    fd = os.open(directory, _DIR)
    try:
        for name, content in files.items():
            try:
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                continue
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=fd)
            with os.fdopen(out, "w") as f:
                f.write(content)
    finally:
        os.close(fd)
