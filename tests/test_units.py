"""Unit checks of the pieces that need no sandbox: the manifest, the ABI
table and the filter generated from it, the docs generated from the tables."""

from __future__ import annotations

import pathlib

import pytest

from motte.errors import UsageError
from motte.kernel import seccomp as sc
from motte.kernel.sysnums import SYSCALLS_X86_64
from motte.manifest import manifest_from_dict, parse_mount_option, schema_keys
from motte.picoprocess.abi import ABI
from motte.picoprocess.filter import build_program

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run_bpf(prog: list[tuple[int, int, int, int]], nr: int, arch: int = sc.AUDIT_ARCH_X86_64, args=(0,) * 6) -> int:
    """A classic-BPF interpreter for the few opcodes the filter uses."""
    data = {sc.OFF_NR: nr & 0xFFFFFFFF, sc.OFF_ARCH: arch}
    for i, a in enumerate(args):
        data[sc.off_arg(i)] = a & 0xFFFFFFFF
        data[sc.off_arg(i, True)] = a >> 32
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = prog[pc]
        if code == sc.BPF_LD_W_ABS:
            acc = data[k]
            pc += 1
        elif code == sc.BPF_RET_K:
            return k
        elif code == sc.BPF_JMP_JA:
            pc += 1 + k
        else:
            cond = {sc.BPF_JMP_JEQ_K: acc == k, sc.BPF_JMP_JGE_K: acc >= k, sc.BPF_JMP_JSET_K: bool(acc & k)}[code]
            pc += 1 + (jt if cond else jf)


PROG = build_program()


def test_abi_calls_are_allowed_and_others_trapped() -> None:
    for call in ABI:
        if call.constraint is None:
            assert _run_bpf(PROG, SYSCALLS_X86_64[call.name]) == sc.SECCOMP_RET_ALLOW, call.name
    for name in ("openat", "execve", "mount", "ptrace", "unshare", "kill", "getuid", "newfstatat", "clone3"):
        assert _run_bpf(PROG, SYSCALLS_X86_64[name]) == sc.SECCOMP_RET_USER_NOTIF, name


def test_filter_rejects_other_entry_points() -> None:
    assert _run_bpf(PROG, 2, arch=sc.AUDIT_ARCH_I386) == sc.SECCOMP_RET_KILL_PROCESS
    assert _run_bpf(PROG, SYSCALLS_X86_64["read"] | sc.X32_SYSCALL_BIT) == sc.SECCOMP_RET_ERRNO | 38


def test_filter_constraints() -> None:
    clone = SYSCALLS_X86_64["clone"]
    thread = 0x003D0F00  # glibc pthread_create flags
    assert _run_bpf(PROG, clone, args=(thread, 0, 0, 0, 0, 0)) == sc.SECCOMP_RET_ALLOW
    assert _run_bpf(PROG, clone, args=(0x1200011, 0, 0, 0, 0, 0)) == sc.SECCOMP_RET_ALLOW  # fork-like
    assert _run_bpf(PROG, clone, args=(thread | 0x10000000, 0, 0, 0, 0, 0)) == sc.SECCOMP_RET_USER_NOTIF
    assert _run_bpf(PROG, clone, args=(thread | 1 << 32, 0, 0, 0, 0, 0)) == sc.SECCOMP_RET_USER_NOTIF
    ioctl = SYSCALLS_X86_64["ioctl"]
    assert _run_bpf(PROG, ioctl, args=(1, 0x5401, 0, 0, 0, 0)) == sc.SECCOMP_RET_ALLOW  # TCGETS
    assert _run_bpf(PROG, ioctl, args=(1, 0x5412, 0, 0, 0, 0)) == sc.SECCOMP_RET_USER_NOTIF  # TIOCSTI
    fcntl = SYSCALLS_X86_64["fcntl"]
    assert _run_bpf(PROG, fcntl, args=(1, 8, 0, 0, 0, 0)) == sc.SECCOMP_RET_USER_NOTIF  # F_SETOWN


def test_abi_size_is_bounded() -> None:
    assert len(ABI) <= 70
    assert len({c.name for c in ABI}) == len(ABI)


def test_manifest_errors_name_the_key() -> None:
    with pytest.raises(UsageError, match="unknown key 'process.argvv'"):
        manifest_from_dict({"process": {"argvv": []}})
    with pytest.raises(UsageError, match="'limits.processes' must be int"):
        manifest_from_dict({"limits": {"processes": "many"}})
    with pytest.raises(UsageError, match="mounts\\[0\\].sandbox"):
        manifest_from_dict({"mounts": [{"host": "/tmp"}]})
    with pytest.raises(UsageError, match="--mount"):
        parse_mount_option("a:b:c:d")
    m = manifest_from_dict({"process": {"argv": ["true"], "env": {"A": "1"}}, "limits": {"processes": 3}})
    assert m.argv == ["true"] and m.env == {"A": "1"} and m.limits.processes == 3


def test_manifest_doc_lists_every_key() -> None:
    doc = (ROOT / "docs" / "manifest.md").read_text()
    for key in schema_keys():
        leaf = key.split(".")[-1] if not key.startswith("mounts") else key.split(".")[-1]
        assert leaf in doc, key


def test_abi_doc_is_generated_from_the_tables() -> None:
    from motte.docs import abi_markdown

    assert (ROOT / "docs" / "abi.md").read_text() == abi_markdown()


def _walk_tree(tmp: pathlib.Path) -> int:
    """a (0755) / closed (0710) / f;  a/link -> closed/f;  a/up -> ../a;  open (0755) / g"""
    import os

    (tmp / "a" / "closed").mkdir(parents=True)
    (tmp / "a").chmod(0o755)
    (tmp / "a" / "closed").chmod(0o710)
    tmp.chmod(0o755)
    (tmp / "a" / "closed" / "f").write_text("x")
    (tmp / "a" / "link").symlink_to("closed/f")
    (tmp / "a" / "up").symlink_to("../a")
    (tmp / "open").mkdir()
    (tmp / "open").chmod(0o755)
    (tmp / "open" / "g").write_text("y")
    return os.open(tmp, os.O_PATH | os.O_DIRECTORY)


@pytest.mark.parametrize("again", [False, True])
def test_search_walk_lists_every_directory_searched(tmp_path: pathlib.Path, again: bool) -> None:
    """fs/search.py: the directories a walk searches, through symlinks and "..",
    the same whether computed afresh or from cached prefixes."""
    import os

    from motte.libos.fs.search import SearchWalk

    root = _walk_tree(tmp_path)
    try:
        w = SearchWalk(root, lambda sx: (0, 0))  # everything owned by root (virtually)
        if again:  # warm the prefix cache with other names in the same directories
            w.searched(b"/a/up/up/open/nothing", True)
            w.searched(b"/a/closed/other", True)
            w.searched(b"/open/other", True)
        modes = {p: os.stat(tmp_path / p.lstrip("/")).st_mode for p in ("/", "/a", "/a/closed", "/open")}

        def names(path: bytes, follow: bool = True) -> list[int]:
            return [m for m, _, _ in w._walk(path, follow)[0]]  # uncached, but from cached prefixes

        assert names(b"/open/g") == [modes["/"], modes["/open"]]
        assert names(b"/a/closed/f") == [modes["/"], modes["/a"], modes["/a/closed"]]
        # a symlink into the closed directory: its target's directories too
        assert modes["/a/closed"] in names(b"/a/link")
        assert modes["/a/closed"] not in names(b"/a/link", follow=False)
        # ".." after the closed directory still searched it
        assert modes["/a/closed"] in names(b"/a/closed/../link", follow=False)
        assert names(b"/a/up/up/up/closed/f")[-1] == modes["/a/closed"]
        for path in (b"/a/closed/f", b"/a/link", b"/a/closed/../../open/g"):
            with pytest.raises(OSError):
                w.check(1000, 1000, [], path, True)
        w.check(1000, 1000, [], b"/a/up/../open/g", True)
        w.check(0, 0, [], b"/a/closed/f", True)  # the owner
    finally:
        os.close(root)
