"""The layer boundary, checked on the source: the library OS reaches the host
only through file descriptors and `monitor.hostproc`."""

from __future__ import annotations

import ast
import pathlib

SRC = pathlib.Path(__file__).resolve().parent.parent / "src" / "motte"

# os functions that take a path; in the library OS they are allowed only
# relative to a directory fd of its own (dir_fd=...).
PATH_FUNCS = {
    "open",
    "stat",
    "lstat",
    "listdir",
    "scandir",
    "readlink",
    "mkdir",
    "makedirs",
    "rmdir",
    "unlink",
    "remove",
    "rename",
    "replace",
    "link",
    "symlink",
    "chmod",
    "chown",
    "lchown",
    "utime",
    "mknod",
    "mkfifo",
    "access",
    "truncate",
    "chdir",
    "chroot",
    "removedirs",
    "walk",
}
FORBIDDEN_MODULES = {"pathlib", "glob", "tempfile", "subprocess", "socket"}


def _libos_files() -> list[pathlib.Path]:
    return sorted((SRC / "libos").rglob("*.py"))


def test_libos_imports_only_hostproc_from_the_monitor() -> None:
    bad = []
    for f in _libos_files():
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                mod = node.module
                if mod.startswith("motte.monitor") and mod != "motte.monitor.hostproc":
                    bad.append(f"{f.name}: from {mod}")
                if mod.split(".")[0] in FORBIDDEN_MODULES:
                    bad.append(f"{f.name}: from {mod}")
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("motte.monitor") or a.name.split(".")[0] in FORBIDDEN_MODULES:
                        bad.append(f"{f.name}: import {a.name}")
    assert not bad, bad


def test_libos_names_no_host_path() -> None:
    bad = []
    for f in _libos_files():
        for node in ast.walk(ast.parse(f.read_text())):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            if isinstance(fn, ast.Name) and fn.id == "open":
                bad.append(f"{f.name}:{node.lineno}: open()")
            if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name):
                if fn.value.id == "os" and fn.attr in PATH_FUNCS:
                    kws = {k.arg for k in node.keywords}
                    if not kws & {"dir_fd", "src_dir_fd", "dst_dir_fd"}:
                        bad.append(f"{f.name}:{node.lineno}: os.{fn.attr} without dir_fd")
                if fn.value.id == "shutil" and not {k.arg for k in node.keywords} & {"dir_fd"}:
                    bad.append(f"{f.name}:{node.lineno}: shutil.{fn.attr} without dir_fd")
    assert not bad, bad


def test_the_checker_catches_a_host_path() -> None:
    """The check above must be able to fail."""
    tree = ast.parse("import os\nos.open('/etc/shadow', os.O_RDONLY)\n")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    fn = calls[0].func
    assert isinstance(fn, ast.Attribute) and fn.attr in PATH_FUNCS and not calls[0].keywords


def test_picoprocess_and_kernel_layers_import_no_libos_or_monitor() -> None:
    for pkg in ("picoprocess", "kernel"):
        for f in sorted((SRC / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith(("motte.libos", "motte.monitor")), (f, node.module)
