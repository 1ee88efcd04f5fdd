"""More adversarial isolation tests (issue "Isolation under attack"): the
hostile programs of tests/hostile/ that test_isolation.py does not run, each
judged from the host side like there: what the program managed to print,
what exists or changed on the host, which host processes are still alive and
as they were, how many processes, tasks and bytes of memory the sandbox held.

The programs, the planted secrets, the host snapshot taken around every test
and the helpers are those of test_isolation.py (imported). Each test names
the program it runs; the program's leading comment says what it tries and
what should stop it.

Families: raw system calls from a JIT page and the vsyscall page; the ABI's
calls with hostile arguments (ioctl, mmap, clone, fcntl, prctl, arch_prctl,
leases, parent-death signals, seccomp); time-of-check/time-of-use races on
paths, exec, socket addresses, iovecs, open_how, through a second process and
with symlinks swapped mid-walk; path tricks (lengths, NULs, mount points,
/proc magic links, symlink loops); descriptor tricks (numbers past the limit,
closing everything, SCM_RIGHTS, the host's stdio streams); processes
(signals, process groups, set-ID programs, zombies, fork and thread bombs);
identity (host /sys and /proc, keyrings, priorities of a whole user, virtual
users, the host's device nodes); exhaustion (memory, fds, disk, a flood of
trapped calls).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import test_isolation as iso
from test_isolation import (
    HOSTILE,
    MOTTE,
    Report,
    Secrets,
    alive,
    host_sleep,
    mkdir755,
    motte,
    motte_cmd,
    pids_in_pidns,
    procs_with,
    run_hostile,
    tree_state,
    wait_for,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the isolation tests plant secrets in /root and /opt")

# The session's compiled programs and planted secrets, and the host snapshot
# around every test, as in test_isolation.py.
bins = iso.bins
secrets = iso.secrets
host_unchanged = iso.host_unchanged

# Names that no directory of the sandbox holds but the host's "/" (or its
# /tmp) does: a listing that shows one has reached the host. (The planted
# secrets' names carry the session's token and are checked by
# Secrets.assert_no_leak.)
HOST_MARKERS = ({"work", "boot", "srv", "media", "mnt", "var"} & set(os.listdir("/"))) | {
    "pytest-of-root",
    "secret.txt",
}


# --------------------------------------------------------------------------- helpers


def tag() -> str:
    return str(random.randrange(10**8, 10**9))


def fields(rep: Report, kind: str) -> list[list[str]]:
    """The tab-separated fields of every line of a kind ("CHILD", "EXIT"...)."""
    return [ln.split("\t")[1:] for ln in rep.lines if ln.split("\t")[0] == kind]


def counter(rep: Report, name: str) -> int:
    return rep.r[name][0]


def failed_all(rep: Report, prefix: str) -> dict[str, tuple[int, str]]:
    """The calls named PREFIX... that succeeded (should be none)."""
    return {k: v for k, v in rep.r.items() if k.startswith(prefix) and v[0] >= 0}


def all_dents(rep: Report) -> set[str]:
    return set().union(*rep.dents.values()) if rep.dents else set()


def popen_motte(argv: list[str], *, mounts=(), opts=(), user: str | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        motte_cmd(argv, mounts, user, opts),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kw,
    )


def read_until(proc: subprocess.Popen, marker: str, timeout: float) -> list[str]:
    """Lines of proc's stdout up to and including the first starting with
    MARKER (or all there were when it ends or the time is up)."""
    lines: list[str] = []
    end = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if lines[-1].startswith(marker):
                proc._motte_rest = buf  # type: ignore[attr-defined]
                return lines
    proc._motte_rest = buf  # type: ignore[attr-defined]
    return lines


def finish(proc: subprocess.Popen, timeout: float = 30) -> tuple[bytes, bytes]:
    out, err = proc.communicate(timeout=timeout)
    return getattr(proc, "_motte_rest", b"") + out, err


def kill_tree(proc: subprocess.Popen, prog: str, tg: str) -> None:
    """End motte and whatever of its sandbox might have outlived it (by pid;
    a survivor would also hold motte's output pipes open)."""
    with contextlib.suppress(OSError):
        proc.kill()
    for pid in procs_with(prog, tg):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.communicate(timeout=10)


def pidns_of(prog: str, tg: str, timeout: float = 15) -> str | None:
    found: list[str] = []

    def look() -> bool:
        for pid in procs_with(prog, tg):
            with contextlib.suppress(OSError):
                found.append(os.readlink(f"/proc/{pid}/ns/pid"))
                return True
        return False

    wait_for(look, timeout)
    return found[0] if found else None


def in_pidns(ns: str, zombies: bool = True) -> list[int]:
    """Processes of a pid namespace, zombies included unless told."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{d}/ns/pid") != ns:
                continue
            with open(f"/proc/{d}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if zombies or state not in ("Z", "X"):
            out.append(int(d))
    return out


def tasks_in(pids: list[int]) -> int:
    n = 0
    for p in pids:
        with contextlib.suppress(OSError):
            n += len(os.listdir(f"/proc/{p}/task"))
    return n


def host_process_count() -> int:
    return sum(1 for d in os.listdir("/proc") if d.isdigit())


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{p}/statm") as f:
            total += int(f.read().split()[1])
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def stat_key(path: str | Path) -> tuple:
    st = os.stat(path)
    try:
        xattrs = tuple(sorted((n, os.getxattr(path, n)) for n in os.listxattr(path)))
    except OSError:
        xattrs = ()
    return (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, st.st_ctime_ns, xattrs)


_libc = ctypes.CDLL(None, use_errno=True)


def ioprio_get(pid: int) -> int:
    return _libc.syscall(252, 1, pid)  # SYS_ioprio_get, IOPRIO_WHO_PROCESS


def inode_flags(path: Path) -> bytes | None:
    """FS_IOC_GETFLAGS (immutable, append-only...), where the file system has them."""
    try:
        with open(path, "rb") as f:
            return fcntl.ioctl(f, 0x80086601, b"\0" * 8)
    except OSError:
        return None


def internal_errors(stderr: bytes) -> list[str]:
    return [ln for ln in stderr.decode(errors="replace").splitlines() if "internal error" in ln]


# --------------------------------------------------------------------------- raw system calls


def test_jit_page_syscalls_are_trapped(bins: Path, secrets: Secrets) -> None:
    """jit_syscall: `syscall` from RWX, W^X-flipped and dual-mapped pages."""
    created = secrets.host_dir / "jit-created"
    reads = [str(secrets.root_file), str(secrets.host_dir / "secret.txt"), str(secrets.var_file),
             str(secrets.opt_dir / "secret.txt"), "/etc/shadow"]  # fmt: skip
    p, rep = run_hostile(bins, "jit_syscall", str(created), *reads)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    secrets.assert_no_leak(rep)
    for v in ("rwx", "wxorx", "dualmap"):
        assert rep.r[f"{v}:getuid"][0] == 1000, f"{v}: getuid was not served by the library OS"
        for path in reads:
            assert rep.err(f"{v}:open:{path}") == "ENOENT", (v, path, rep.r[f"{v}:open:{path}"])
        for op in ("create", "mkdir"):
            assert rep.failed(f"{v}:{op}:{created}"), (v, op)
        for op in ("mount_tmpfs", "unshare_newuser", "ptrace_traceme", "sethostname"):
            assert rep.err(f"{v}:{op}") == "EPERM", (v, op, rep.r[f"{v}:{op}"])
    assert not created.exists()


def test_vsyscall_page_is_no_way_around_the_filter(bins: Path, secrets: Secrets) -> None:
    """vsyscall: the legacy vsyscall entries with other calls' registers."""
    created = secrets.host_dir / "vsyscall-created"
    t0 = time.time()
    p, rep = run_hostile(bins, "vsyscall", str(secrets.root_file), str(created))
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    secrets.assert_no_leak(rep)
    children = {f[0]: (f[1], int(f[2])) for f in fields(rep, "CHILD")}
    for name in ("mid_entry_1", "mid_entry_405", "mid_entry_c00", "mid_entry_ff0", "read_page", "write_page"):
        assert children[name] == ("signal", signal.SIGSEGV), (name, children[name])
    assert children["gtod_kernel_ptr"][0] == "signal", children["gtod_kernel_ptr"]
    # The entries that do work run their own call (time), not the one in rax.
    for v in fields(rep, "VTIME"):
        assert abs(int(v[0]) - t0) < 30, v
    for op in ("mprotect_vsyscall_rwx", "munmap_vsyscall", "mremap_vsyscall", "mmap_fixed_vsyscall"):
        assert rep.failed(op), op
    assert not created.exists()


# --------------------------------------------------------------------------- the ABI, hostile arguments


def test_ioctl_requests_outside_the_allowed_set_are_refused(bins: Path, tmp_path: Path) -> None:
    """ioctl_fds: freeze, immutable flags, RNG, routes, terminals... on every kind of fd."""
    ro = mkdir755(tmp_path / "ro")
    (ro / "file").write_text("read-only host file\n")
    flags_before = inode_flags(ro / "file")
    before = tree_state(ro)
    with host_sleep(tag()) as hs:
        p, rep = run_hostile(bins, "ioctl_fds", "/ro/file", "/ro", str(hs.pid), mounts=[(ro, "/ro", "ro")])
        assert alive(hs.pid)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr[-2000:])
    opened = [k for k, v in rep.r.items() if k.startswith("fd:") and v[0] >= 0]
    assert len(opened) >= 15, f"the fds under attack were not opened: {rep.r}"
    ok = failed_all(rep, "ioctl:")
    assert not ok, f"ioctl requests outside the allowed set succeeded: {ok}"
    assert int(fields(rep, "LOFLAGS")[0][0]) & 1, "the sandbox's loopback was taken down"
    assert inode_flags(ro / "file") == flags_before, "the host file's inode flags changed"
    assert tree_state(ro) == before
    # Not frozen: the host can still write next to it.
    subprocess.run(["sh", "-c", f"echo x > {ro}/probe && rm {ro}/probe"], check=True, timeout=10)


def test_odd_mappings_stay_in_the_callers_address_space(bins: Path, tmp_path: Path) -> None:
    """mmap_odd: vvar/vDSO games, address 0, the top of user space, poisoning, sealed and read-only files."""
    ro = mkdir755(tmp_path / "ro")
    (ro / "file").write_text("read-only host file\n" * 300)
    before = tree_state(ro)
    wall0, mono0 = time.time(), time.monotonic()
    p, rep = run_hostile(bins, "mmap_odd", "/ro/file", mounts=[(ro, "/ro", "ro")], timeout=60)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    children = {f[0]: (f[1], int(f[2])) for f in fields(rep, "CHILD")}
    if fields(rep, "VVAR")[0][0] != "0":  # the vvar pages were found in /proc/self/maps
        assert rep.failed("mprotect_vvar_rw")
        assert children.get("write_vvar") == ("signal", signal.SIGSEGV), children
    for op in ("map_fixed_zero", "map_fixed_top", "map_fixed_below_top", "map_fixed_kernel", "madvise_hwpoison",
               "madvise_soft_offline", "map_shared_write_proc", "ftruncate_proc", "write_proc_fd", "remove_seals",
               "map_shared_write_ro", "mprotect_shared_ro_to_write"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])
    assert tree_state(ro) == before
    # Whatever the children did to their vvar and vDSO, the parent's clock,
    # and the host's, still read true.
    host_now = time.time()
    for c in fields(rep, "CLOCK"):
        assert abs(int(c[0]) - host_now) < 60, c
    assert abs((time.time() - wall0) - (time.monotonic() - mono0)) < 1, "the host's clocks drifted apart"


def test_clone_and_unshare_make_no_namespace(bins: Path) -> None:
    """clone_ns: raw clone and clone3 with every CLONE_NEW*, upper bits, CLONE_PARENT; unshare; setns."""
    tg = tag()
    proc = popen_motte(["/t/clone_ns", "3", tg], mounts=[(bins, "/t", "ro")])
    try:
        lines = read_until(proc, "READY", 30)
        assert lines and lines[-1] == "READY", lines
        pids = procs_with("clone_ns", tg)
        assert pids, "the program is not running"
        ns = os.readlink(f"/proc/{pids[0]}/ns/pid")
        members = in_pidns(ns, zombies=False)
        for kind in ("user", "mnt", "net", "uts", "ipc", "cgroup"):
            seen = set()
            for pid in members:
                with contextlib.suppress(OSError):
                    seen.add(os.readlink(f"/proc/{pid}/ns/{kind}"))
            assert len(seen) == 1, f"a process of the sandbox is in a {kind} namespace of its own: {seen}"
        out, err = finish(proc)
    finally:
        kill_tree(proc, "clone_ns", tg)
    rep = Report.parse("\n".join(lines).encode() + b"\n" + out)
    assert proc.returncode == 0 and "DONE" in rep.lines, (proc.returncode, err)
    assert not fields(rep, "CHILD-BORN"), fields(rep, "CHILD-BORN")
    for k, (ret, e) in rep.r.items():
        if k.startswith(("clone:", "clone3:", "unshare:", "setns:")):
            assert ret < 0, f"{k} succeeded"
        if k.startswith("clone3:"):
            assert e == "ENOSYS", (k, e)
        if k.startswith(("unshare:new", "setns:")) or k in ("clone:newuser", "clone:all", "clone:newuser_hi"):
            assert e == "EPERM", (k, e)


def test_fcntl_owner_and_signal_commands_reach_no_host_process(bins: Path) -> None:
    """fcntl_hostile: fds it should not hold, F_SETOWN/F_SETSIG/O_ASYNC at host pids and motte."""
    tg = tag()
    with host_sleep(tg) as hs:
        cmd = f'exec "{MOTTE}" run --mount {bins}:/t:ro -- /t/fcntl_hostile {hs.pid} $$'
        p = subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        time.sleep(0.2)
        assert alive(hs.pid), "SIGIO or SIGKILL reached a host process"
    rep = Report.parse(p.stdout)
    assert p.returncode == 0 and "ALIVE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "fds_held_beyond_stdio") == 0, (
        f"the sandbox holds descriptors it was not given: {fields(rep, 'HELD')}"
    )
    for k in rep.r:
        if k.startswith(("setown:", "setown_ex", "setown_stdout")):
            assert rep.err(k) == "ESRCH", (k, rep.r[k])
    for op in ("dupfd_100000", "dupfd_cloexec_intmax", "dupfd_rlimit", "notify", "setpipe_sz_1g", "proc_write_after",
               "proc_add_seal_none", "cmd_unknown_9999", "setlease_hibits_pipe"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])
    for op in ("cmd_unknown_badfd", "setlease_badfd", "ioctl_unknown_badfd"):
        assert rep.err(op) == "EBADF", (op, rep.r[op])


@pytest.mark.parametrize("user", ["user", "root"])
def test_prctl_options_beyond_the_caller_are_refused(bins: Path, user: str) -> None:
    """prctl_hostile: PR_SET_MM, ambient and bounding capabilities, securebits, no_new_privs, ptracer..."""
    tg = tag()
    proc = popen_motte(["/t/prctl_hostile", "1", "3", tg], mounts=[(bins, "/t", "ro")], user=user)
    try:
        lines = read_until(proc, "READY", 30)
        pids = procs_with("prctl_hostile", tg)
        assert pids and lines and lines[-1] == "READY", (lines, pids)
        with open(f"/proc/{pids[0]}/status") as f:
            st = dict(ln.rstrip("\n").split(":\t", 1) for ln in f if ":\t" in ln)
        out, err = finish(proc)
    finally:
        kill_tree(proc, "prctl_hostile", tg)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, f"{cap} = {st[cap]} after the attempts"
    assert st["NoNewPrivs"].strip() == "1" and st["Seccomp"].strip() == "2", st
    rep = Report.parse("\n".join(lines).encode())
    for k in rep.r:
        if k.startswith("set_mm"):
            assert rep.failed(k), k
    for op in ("cap_ambient_raise_sys_admin", "cap_ambient_raise_dac", "capbset_drop", "set_securebits_0",
               "clear_no_new_privs", "set_ptracer_host", "set_ptracer_any", "set_io_flusher",
               "set_syscall_user_dispatch", "option_unknown"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])
    assert rep.r["get_no_new_privs"][0] == 1
    if user == "user":
        assert rep.err("capset_all") == "EPERM" and rep.err("setuid0_after_keepcaps") == "EPERM"


def test_arch_prctl_odd_codes_are_refused(bins: Path) -> None:
    """arch_prctl_odd: another vDSO, AMX, LAM, shadow stacks, kernel FS/GS bases, upper bits."""
    p, rep = run_hostile(bins, "arch_prctl_odd")
    assert p.returncode == 0 and "ALIVE" in rep.lines, (p.returncode, p.stderr)
    for op in ("set_gs_kernel", "set_gs_noncanonical", "set_fs_kernel", "set_fs_noncanonical", "req_xcomp_perm_amx",
               "map_vdso_x32", "map_vdso_32", "map_vdso_64", "enable_tagged_addr", "shstk_enable", "shstk_disable",
               "shstk_lock", "shstk_unlock", "code_hibits_map_vdso", "code_negative", "code_unknown"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])


@pytest.mark.parametrize(("mode", "end"), [("clear", "timeout"), ("ignore", "kill-motte")])
def test_pid1_cannot_outlive_motte_by_changing_its_death_signal(bins: Path, mode: str, end: str) -> None:
    """pdeathsig: pid 1 clears (or replaces) the PR_SET_PDEATHSIG that ties it to motte."""
    tg = tag()
    opts = ["--timeout", "2"] if end == "timeout" else []
    proc = popen_motte(["/t/pdeathsig", mode, tg], mounts=[(bins, "/t", "ro")], opts=opts)
    try:
        lines = read_until(proc, "READY", 30)
        assert lines and lines[-1] == "READY", lines
        ns = os.readlink(f"/proc/{procs_with('pdeathsig', tg)[0]}/ns/pid")
        if end == "kill-motte":
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
        gone = wait_for(lambda: not procs_with("pdeathsig", tg) and not pids_in_pidns(ns), 3)
        left = procs_with("pdeathsig", tg)
    finally:
        kill_tree(proc, "pdeathsig", tg)
    assert any(ln.startswith("R\tpdeathsig_") for ln in lines), lines
    assert gone, (
        f"motte has ended ({end}, status {proc.returncode}) but the sandbox lives on as host processes {left}, "
        "outside any limit: pid 1 changed its own parent-death signal"
    )


def test_leases_on_read_only_host_files_do_not_hold_back_host_writers(bins: Path, tmp_path: Path) -> None:
    """lease: F_SETLEASE(F_RDLCK) on a file of a read-only mount and on a host file under /usr."""
    ro = mkdir755(tmp_path / "ro")
    target = ro / "leased"
    target.write_text("host file, granted read-only\n")
    target.chmod(0o644)
    usr = next((f for f in ("/usr/share/common-licenses/GPL-3", "/usr/share/dict/words", "/usr/share/misc/magic.mgc")
                if os.path.isfile(f)), None)  # fmt: skip
    args = ["/ro/leased"] + ([usr] if usr else [])
    proc = popen_motte(["/t/lease", "20", *args], mounts=[(bins, "/t", "ro"), (ro, "/ro", "ro")])
    held_back = []
    try:
        lines = read_until(proc, "READY", 30)
        assert lines and lines[-1] == "READY", lines
        for path in [str(target)] + ([usr] if usr else []):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # writes nothing
                os.close(fd)
            except BlockingIOError:
                held_back.append(path)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    rep = Report.parse("\n".join(lines).encode())
    assert not held_back, (
        f"the sandbox's file lease holds back the host's own writers of {held_back} "
        f"(a blocking open would wait /proc/sys/fs/lease-break-time s): {rep.r}"
    )


def test_own_seccomp_filters_cannot_loosen_the_sandbox(bins: Path, secrets: Secrets) -> None:
    """seccomp_stack: ALLOW-all filters, a listener of its own, RET_TRACE, strict mode, notification ioctls."""
    p, rep = run_hostile(bins, "seccomp_stack", str(secrets.root_file))
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    for op in ("new_listener_allow", "new_listener_notif", "listener_after_stack"):
        assert rep.err(op) == "EBUSY", (op, rep.r[op])
    for stage in ("after_allow", "after_prctl_allow", "after_stack", "final"):
        assert rep.r[f"{stage}:getuid"][0] == 1000, stage
        assert rep.err(f"{stage}:open_host") == "ENOENT", stage
    assert rep.r["trace_child:getuid"][0] == 1000
    assert not [k for k in rep.r if k.startswith("notif_")], "a held fd answered the notification ioctls"


# --------------------------------------------------------------------------- races


def test_race_on_a_path_argument(bins: Path, secrets: Secrets) -> None:
    """race_path: a thread flips the path between a harmless file and host secrets under 14 calls."""
    name = secrets.root_file.name
    targets = [
        str(secrets.host_dir / "secret.txt"), str(secrets.root_file), "../../../../../../root/" + name,
        "/proc/self/root/../../.." + str(secrets.host_dir / "secret.txt"),
        "/proc/1/cwd/../../../../.." + str(secrets.var_file), str(secrets.opt_dir / "secret.txt"), "/etc/shadow",
    ]  # fmt: skip
    watched = [secrets.root_file, secrets.var_file, secrets.opt_dir / "secret.txt", secrets.host_dir / "secret.txt"]
    before = {str(w): stat_key(w) for w in watched}
    p, rep = run_hostile(bins, "race_path", "2", *targets)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "flips") > 10000 and counter(rep, "iterations") > 50, "the race did not run"
    assert counter(rep, "open_ok") > 0, "the harmless file never opened"
    secrets.assert_no_leak(rep)
    assert {str(w): stat_key(w) for w in watched} == before, "a host secret's file changed"


def test_race_on_execs_path(bins: Path, secrets: Secrets) -> None:
    """race_exec: the re-read path of execve flips to a host script (and to a root-only script)."""
    script = secrets.host_dir / "pwn.sh"
    marker = secrets.host_dir / "ran"
    script.write_text(f"#!/bin/sh\necho RAN-HOST-SCRIPT\ntouch {marker}\n")
    script.chmod(0o755)
    try:
        targets = [str(script), "/proc/self/root/../../.." + str(script), "../../../../../.." + str(script)]
        p, rep = run_hostile(bins, "race_exec", "2", *targets, user="root", timeout=60)
        p2, rep2 = run_hostile(bins, "race_exec", "2", "rootonly", *targets, user="root", timeout=60)
    finally:
        script.unlink()
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "children") > 10 and counter(rep, "exec_ok") > 0, "the race did not run"
    assert p2.returncode == 0 and "DONE" in rep2.lines, (p2.returncode, p2.stderr)
    assert counter(rep2, "children") > 10, "the race did not run"
    for out in (p.stdout + p.stderr, p2.stdout + p2.stderr):
        assert b"RAN-HOST-SCRIPT" not in out and not marker.exists(), "a host program ran in the sandbox"
        assert b"RAN-NOEXEC" not in out, "a file without an execute bit ran"
    # uid 1000 amid root's 0700 script: an exec whose path a second thread
    # can rewrite is refused, so the kernel never runs what the check refused
    assert rep2.err("direct_exec_rootonly") == "EACCES", rep2.r["direct_exec_rootonly"]
    assert b"RAN-ROOTONLY" not in p2.stdout + p2.stderr, "uid 1000 ran root's 0700 script by the exec race"
    assert b"rootonly.sh" not in p2.stderr, "the kernel ran an exec of root's 0700 script (its shell was refused)"


def test_race_on_the_destination_of_tree_changes(bins: Path, secrets: Secrets) -> None:
    """race_fsmod: create/mkdir/mknod/symlink/link/rename/exchange/setxattr/chmod/unlink onto host paths."""
    tk = secrets.token
    targets = [
        str(secrets.host_dir / "planted"), f"/var/tmp/motte-race-{tk}", f"../../../../../../var/tmp/motte-race2-{tk}",
        f"/proc/self/root/../../var/tmp/motte-race3-{tk}", f"/proc/1/cwd/../../../../../var/tmp/motte-race4-{tk}",
        "/t/pwned",
    ]  # fmt: skip
    host_before = tree_state(secrets.host_dir)
    p, rep = run_hostile(bins, "race_fsmod", "2", *targets)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "iterations") > 50 and counter(rep, "creat_ok") > 0, "the race did not run"
    planted = [str(x) for x in Path("/var/tmp").glob(f"motte-race*{tk}*")]
    assert not planted, f"created on the host: {planted}"
    assert tree_state(secrets.host_dir) == host_before, "a host directory changed"
    assert not (bins / "pwned").exists()


def test_race_on_socket_addresses(bins: Path, secrets: Secrets, tmp_path: Path) -> None:
    """race_sockaddr: connect/bind addresses flip between the sandbox's listeners and the host's."""
    sockdir = mkdir755(tmp_path / "sock")
    host_path = sockdir / "host.sock"
    abstract_name = f"motte-race-{secrets.token}"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        unix.bind(str(host_path))
        tcp.bind(("127.0.0.1", 0))
        abstract.bind(b"\0" + abstract_name.encode())
        for s in (unix, tcp, abstract):
            s.listen(512)
            s.setblocking(False)
        p, rep = run_hostile(bins, "race_sockaddr", "1.5", str(host_path), str(tcp.getsockname()[1]), abstract_name)
        accepted = []
        for s in (unix, tcp, abstract):
            with contextlib.suppress(BlockingIOError):
                accepted.append(s.accept())
    finally:
        for s in (unix, tcp, abstract):
            s.close()
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "connected_unix") > 0 and counter(rep, "connected_tcp") > 0, "the race did not run"
    assert not accepted, f"a host listener accepted a connection from the sandbox: {accepted}"
    assert counter(rep, "strange_peers") == 0, fields(rep, "PEER")
    assert sorted(os.listdir(sockdir)) == ["host.sock"], os.listdir(sockdir)


def test_race_on_iovecs_and_message_headers(bins: Path) -> None:
    """race_iovec: iovecs flip to kernel, vsyscall, NULL, huge, page-edge; SCM_RIGHTS numbers flip."""
    p, rep = run_hostile(bins, "race_iovec", "2", "/etc/hostname", opts=["--debug"], timeout=60)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr[-2000:])
    assert not internal_errors(p.stderr), internal_errors(p.stderr)
    assert counter(rep, "readv_ok") > 0 and counter(rep, "readv_efault") > 0, "the race did not run"
    assert counter(rep, "preadv_ok") > 0 and counter(rep, "pwritev_ok") > 0
    assert counter(rep, "process_vm_readv_ok") == 0


def test_race_on_openat2s_open_how(bins: Path) -> None:
    """race_openat2: how.flags flips O_PATH -> O_WRONLY after the library OS saw O_PATH."""
    p, rep = run_hostile(bins, "race_openat2", "2", "/etc/passwd")
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert rep.err("direct_open_write") == "EACCES"
    assert counter(rep, "tries") > 1000, "the race did not run"
    assert counter(rep, "wins") == 0 and counter(rep, "marker_in_file") == 0, (
        f"the sandbox user got {counter(rep, 'wins')} writable descriptors on root's /etc/passwd "
        "(open_how re-read by the kernel after an O_PATH check) and appended to it"
    )


def test_race_through_memory_shared_with_a_second_process(bins: Path, secrets: Secrets, tmp_path: Path) -> None:
    """race_shared: a second process rewrites path and sockaddr in a MAP_SHARED page."""
    sockdir = mkdir755(tmp_path / "sock")
    host_path = sockdir / "host.sock"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        unix.bind(str(host_path))
        unix.listen(512)
        unix.setblocking(False)
        targets = [str(secrets.host_dir / "secret.txt"), str(secrets.root_file),
                   "/proc/self/root/../../.." + str(secrets.host_dir / "secret.txt")]  # fmt: skip
        p, rep = run_hostile(bins, "race_shared", "2", str(host_path), *targets)
        with pytest.raises(BlockingIOError):
            unix.accept()
    finally:
        unix.close()
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "iterations") > 50 and counter(rep, "opened") > 0, "the race did not run"
    secrets.assert_no_leak(rep)
    assert counter(rep, "strange_peers") == 0


@pytest.mark.parametrize("target", ["/", "../../../../../../..", "@hostdir", "/proc/self/root/../../.."])
def test_symlink_swapped_with_a_directory_mid_walk(bins: Path, secrets: Secrets, target: str) -> None:
    """race_symswap: d <-> l (symlink out) exchanged while paths through d are opened."""
    if target == "@hostdir":
        target = str(secrets.host_dir)
    suffixes = ["secret.txt", "root/" + secrets.root_file.name, "etc/shadow",
                str(secrets.host_dir / "secret.txt").lstrip("/"), "var/tmp/" + secrets.var_file.name,
                "opt/" + secrets.opt_dir.name + "/secret.txt"]  # fmt: skip
    p, rep = run_hostile(bins, "race_symswap", "1.2", target, *suffixes)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert counter(rep, "swaps") > 100 and counter(rep, "iterations") > 20, "the race did not run"
    secrets.assert_no_leak(rep)
    host_names = all_dents(rep) & HOST_MARKERS
    assert not host_names, f"a listing shows host entries: {host_names}"
    assert all(not c[0].startswith(str(secrets.host_dir)) for c in fields(rep, "CWD")), fields(rep, "CWD")


# --------------------------------------------------------------------------- paths


def test_paths_at_and_past_every_length_limit(bins: Path) -> None:
    """long_paths: PATH_MAX-1/PATH_MAX/64K/1M, no NUL, NAME_MAX, long link targets, a tree deeper than PATH_MAX."""
    p, rep = run_hostile(bins, "long_paths", opts=["--debug"])
    assert p.returncode == 0 and "FINAL_OK" in rep.lines, (p.returncode, p.stderr[-2000:])
    assert not internal_errors(p.stderr), internal_errors(p.stderr)
    for k in ("open:slashes_4095", "open:dots_4095", "open:dotdot_4095_passwd", "creat:name_255",
              "symlink:target_4095"):  # fmt: skip
        assert rep.err(k) == "OK", (k, rep.r[k])
    for k in ("open:slashes_4096", "open:dotdot_4096_shadow", "open:slashes_65536", "open:dotdot_1M_shadow",
              "open:no_nul_1M", "creat:name_256", "symlink:target_4096", "open:deep_climb_past_max"):  # fmt: skip
        assert rep.err(k) == "ENAMETOOLONG", (k, rep.r[k])
    assert rep.err("open:dotdot_4095_shadow") == "ENOENT"
    assert rep.err("setxattr:name_300") == "ERANGE"


def test_nul_bytes_and_odd_bytes_in_names(bins: Path, secrets: Secrets) -> None:
    """nul_paths: "a\\0<host path>" in paths, socket addresses, link targets, xattr names; overlong UTF-8..."""
    before = tree_state(secrets.host_dir)
    p, rep = run_hostile(bins, "nul_paths", str(secrets.host_dir))
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert tree_state(secrets.host_dir) == before, "a name after a NUL reached the host directory"
    assert rep.data.get("LINK:/tmp/nul3") == b"/tmp/nultarget"
    for k, (ret, _) in rep.r.items():
        if k.startswith("open:") and k != "open:/tmp":
            assert ret < 0, f"{k} opened"
    secrets.assert_no_leak(rep)


def test_paths_crossing_mount_points(bins: Path, secrets: Secrets) -> None:
    """mount_crossing: `..` across every mount point of the view, by path, dirfd and cwd; cross-mount renames."""
    p, rep = run_hostile(bins, "mount_crossing")
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    for k, (ret, _) in rep.r.items():
        if k.startswith("open:") and any(s in k for s in ("shadow", "root")):
            assert ret < 0, f"{k} opened"
    host_names = all_dents(rep) & HOST_MARKERS
    assert not host_names, f"`..` of a mount point listed host entries: {host_names}"
    for op in ("rename_tmp_to_usr", "rename_tmp_to_t", "rename_tmp_to_home", "link_t_to_tmp", "link_etc_to_tmp",
               "rename_t_out", "rename_mountpoint_tmp", "rmdir_mountpoint_t", "symlink_in_root"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])
    secrets.assert_no_leak(rep)


def test_proc_magic_links_name_no_host_path(bins: Path, secrets: Secrets) -> None:
    """proc_links: every /proc and /dev link and the files that could name host paths, and walks through them."""
    p, rep = run_hostile(bins, "proc_links", cwd=secrets.host_dir)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    blob = rep.everything()
    for host in (str(bins), str(secrets.host_dir), "/work/main", "pytest-of-", str(Path.cwd())):
        assert host.encode() not in blob, f"the host path {host} shows inside the sandbox"
    for k, (ret, _) in rep.r.items():
        if k.startswith("open:") and "shadow" in k:
            assert ret < 0, f"{k} opened"
    assert not all_dents(rep) & HOST_MARKERS, all_dents(rep) & HOST_MARKERS
    assert rep.err("fchdir_procfd") == "EACCES"
    secrets.assert_no_leak(rep)


PLAIN_LOOPS = ["self", "a_b_cycle", "chain41", "up", "up_sub"]
PROC_LOOPS = ["proc_root_loop", "proc_root_loop_sub", "proc_cwd_loop"]


@pytest.fixture(scope="module")
def loops_run(bins: Path) -> tuple[subprocess.CompletedProcess, Report]:
    return run_hostile(bins, "symlink_loops", opts=["--debug"])


def test_symlink_loops_end_in_eloop(loops_run) -> None:
    """symlink_loops: self, cycles, 41-link chains, `..` loops: ELOOP; a 40-link chain resolves."""
    p, rep = loops_run
    assert p.returncode == 0 and "FINAL_OK" in rep.lines, (p.returncode, p.stderr[-2000:])
    for label in PLAIN_LOOPS:
        for op in ("open", "stat", "creat", "chdir", "execve"):
            assert rep.err(f"{op}:{label}") == "ELOOP", (op, label, rep.r[f"{op}:{label}"])
    assert rep.err("open:chain40") == "OK"


def test_symlink_loops_through_proc_end_in_eloop(loops_run) -> None:
    """symlink_loops: "l -> /proc/self/root/tmp/l" and /proc/self/cwd loops: ELOOP, not an internal error."""
    p, rep = loops_run
    eio = {k: v for k, v in rep.r.items() if v[1] == "EIO"}
    assert not eio, f"the library OS failed (EIO) on a symlink loop: {sorted(eio)}"
    assert not internal_errors(p.stderr), internal_errors(p.stderr)[:3]
    for label in PROC_LOOPS:
        for op in ("open", "stat", "creat", "chdir"):
            assert rep.err(f"{op}:{label}") == "ELOOP", (op, label, rep.r[f"{op}:{label}"])


# --------------------------------------------------------------------------- descriptors


def test_descriptor_numbers_past_the_limit(bins: Path) -> None:
    """fd_high: dup2/dup3/F_DUPFD far past RLIMIT_NOFILE, a raised hard limit, a full table."""
    p, rep = run_hostile(bins, "fd_high")
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    for op in ("dup2_100000", "dup2_1M", "dup2_intmax", "dup2_neg", "dup3_100000", "dupfd_100000", "dup2_at_limit",
               "raise_nofile_hard", "raise_nofile_setrlimit"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])
    for op in ("full:open", "full:socket", "full:pipe", "full:memfd", "full:open_proc"):
        assert rep.err(op) == "EMFILE", (op, rep.r[op])
    for op in ("full:stat", "full:uname"):
        assert rep.err(op) == "OK", op
    assert rep.r["full:getuid"][0] == 1000
    assert rep.r["reuse:open_after_close_500"][0] == 500
    assert rep.data["DATA:fd500"] == b"motte\n" and rep.data["DATA:after_clear"] == b"motte\n"


def test_closing_every_descriptor_leaves_the_sandbox_served(bins: Path, tmp_path: Path) -> None:
    """close_everything: close_range(0, ~0), stdio included, then trapped calls, fork, exec."""
    rw = mkdir755(tmp_path / "rw")
    p, _ = run_hostile(bins, "close_everything", "/rw/report", mounts=[(rw, "/rw", "rw")])
    assert p.returncode == 7, (p.returncode, p.stderr)
    rep = Report.parse((rw / "report").read_bytes())
    assert "STILL-SERVED" in rep.lines, rep.lines
    for op in ("stat", "open", "mkdir", "socketpair", "fork_wait", "close_range_unshare", "open_again"):
        assert rep.err(op) == "OK", (op, rep.r[op])
    assert rep.r["getuid"][0] == 1000 and rep.r["child_status"][0] == 0
    assert rep.failed("write_unheld_fd9") and rep.failed("close_range_badflags")


def test_descriptors_passed_over_unix_sockets_reach_nothing_more(bins: Path, secrets: Secrets, tmp_path: Path) -> None:
    """scm_rights: "/", /usr/share, a /proc directory, O_PATH /etc, a read-only host file, stdio... passed on."""
    ro = mkdir755(tmp_path / "ro")
    (ro / "file").write_text("read-only host file\n")
    before = tree_state(ro)
    p, rep = run_hostile(bins, "scm_rights", "/ro/file", mounts=[(ro, "/ro", "ro")])
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert rep.r["received"][0] == 11
    assert tree_state(ro) == before, "the read-only host file changed through a passed descriptor"
    secrets.assert_no_leak(rep)
    for k, (ret, _) in rep.r.items():
        if k.startswith("openat:") and ("shadow" in k or k.endswith("/root")):
            assert ret < 0, f"{k} opened"
    assert not all_dents(rep) & HOST_MARKERS, all_dents(rep) & HOST_MARKERS
    # (the host's stdio pipes, passed on, are test_host_stdio_pipes_... 's)
    for op in ("fchdir:procdir", "reopen_rdwr:rofile", "write:rofile", "mmap_shared_write:rofile", "fchmod:rofile",
               "fsetxattr:rofile", "mmap_shared_write:stdout", "write:procfile", "mmap_shared_write:procfile"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])
    assert rep.err("sendmsg_254_fds") == "EINVAL"
    assert str(tmp_path).encode() not in rep.everything()


def _stdio_target(tmp_path: Path) -> Path:
    d = mkdir755(tmp_path / "stdio")
    log = d / "log.txt"
    log.write_text("HOST-LOG-EXISTING-CONTENT\n")
    log.chmod(0o644)
    os.setxattr(log, "user.host_mark", b"kept")
    return log


@pytest.mark.parametrize("user", ["user", "root"])
def test_host_stdio_file_metadata_cannot_be_changed(bins: Path, tmp_path: Path, user: str) -> None:
    """stdio_meta meta: fchmod, fchown, futimens, fsetxattr, fremovexattr, a lease, on a host stdout file."""
    log = _stdio_target(tmp_path)
    before = stat_key(log)
    try:
        with open(log, "ab") as out:
            p = subprocess.run(
                [MOTTE, "run", "--user", user, "--mount", f"{bins}:/t:ro", "--", "/t/stdio_meta", "meta", "user.host_mark"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, timeout=60,
            )  # fmt: skip
        after = stat_key(log)
    finally:
        with contextlib.suppress(OSError):
            os.removexattr(log, "user.motte_pwned")
    rep = Report.parse(p.stderr)
    assert "DONE" in rep.lines, p.stderr
    changed = {n: (b, a) for n, b, a in zip(("mode", "uid", "gid", "size", "mtime", "ctime", "xattrs"), before, after, strict=True) if b != a}  # fmt: skip
    assert not changed, (
        f"as the sandbox's {user}, the host file given as stdout changed: {changed}; "
        f"calls that succeeded: {[k for k, v in rep.r.items() if v[0] >= 0]}"
    )


def test_host_stdio_file_existing_content_cannot_be_rewritten(bins: Path, tmp_path: Path) -> None:
    """stdio_meta content: punch/zero/collapse, clear O_APPEND + pwrite, ftruncate on an append-only host stdout."""
    log = _stdio_target(tmp_path)
    original = log.read_bytes()
    with open(log, "ab") as out:
        p = subprocess.run(
            [MOTTE, "run", "--mount", f"{bins}:/t:ro", "--", "/t/stdio_meta", "content", "-"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
    rep = Report.parse(p.stderr)
    assert "DONE" in rep.lines, p.stderr
    now = log.read_bytes()
    assert now.startswith(original), (
        f"the host's existing log content was rewritten through an append-only stream: {now[:40]!r}; "
        f"calls that succeeded: {[k for k, v in rep.r.items() if v[0] >= 0]}"
    )


def test_host_stdio_pipes_cannot_be_reopened_the_other_way(bins: Path) -> None:
    """stdio_pipe: stdout (a host pipe, write-only) re-opened for reading, stdin (read-only) for writing."""
    out_r, out_w = os.pipe()
    in_r, in_w = os.pipe()
    host_data = b"HOST-DATA-QUEUED-FOR-THE-HOST-READER\n"
    os.write(out_w, host_data)  # another writer of the pipe the host reads
    try:
        p = subprocess.run(
            [MOTTE, "run", "--mount", f"{bins}:/t:ro", "--", "/t/stdio_pipe"],
            stdin=in_r, stdout=out_w, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
        os.close(out_w)
        got = b""
        while chunk := os.read(out_r, 65536):
            got += chunk
        os.set_blocking(in_r, False)
        try:
            injected = os.read(in_r, 65536)
        except BlockingIOError:
            injected = b""
    finally:
        for fd in (out_r, in_r, in_w):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.close(out_w)
    rep = Report.parse(p.stderr)
    assert "DONE" in rep.lines, p.stderr
    assert got.startswith(host_data), (
        f"the sandbox took the host's data out of its stdout pipe: {[bytes.fromhex(f[1]) for f in fields(rep, 'STOLEN')]}"
    )
    assert not fields(rep, "STOLEN"), fields(rep, "STOLEN")
    assert injected == b"", f"the sandbox wrote into its (read-only) stdin pipe: {injected!r}"
    reopened = [k for k, v in rep.r.items() if k.startswith(("reopen_", "inject")) and v[0] >= 0]
    assert not reopened, f"host pipes re-opened with more access than given: {reopened}"


# --------------------------------------------------------------------------- processes


def test_signals_to_every_target_stay_in_the_sandbox(bins: Path) -> None:
    """signals_everywhere: every signal to a host pid, motte, their groups, -1 and 0."""
    tg = tag()
    with host_sleep(tg) as hs:
        cmd = f'exec "{MOTTE}" run --mount {bins}:/t:ro -- /t/signals_everywhere {hs.pid} $$'
        p = subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        time.sleep(0.2)
        assert alive(hs.pid), "a host process was killed"
        with open(f"/proc/{hs.pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
        assert state not in ("T", "t"), "a host process was stopped"
    rep = Report.parse(p.stdout)
    assert p.returncode == 0 and "ALIVE" in rep.lines, (p.returncode, p.stderr)
    reached = {k: v for k, v in rep.r.items() if v[0] >= 0 and any(t in k for t in (":host", ":motte"))}
    assert not reached, f"signals that reached a host process: {reached}"
    assert rep.r["after:getuid"][0] == 1000


def test_process_group_and_session_games(bins: Path) -> None:
    """pgrp_games: join or move host groups and sessions, steal a terminal, orphan a stopped group."""
    tg = tag()
    mine = (os.getpgrp(), os.getsid(0))
    with host_sleep(tg) as hs:
        host = (os.getpgid(hs.pid), os.getsid(hs.pid))
        p, rep = run_hostile(bins, "pgrp_games", str(hs.pid), str(host[0]), str(host[1]))
        assert (os.getpgid(hs.pid), os.getsid(hs.pid)) == host, "a host process changed group or session"
        assert alive(hs.pid)
    assert (os.getpgrp(), os.getsid(0)) == mine
    assert p.returncode == 0 and "ALIVE" in rep.lines, (p.returncode, p.stderr)
    for op in ("setsid_pid1", "setpgid_self_to_host_pgid", "setpgid_self_to_host_sid", "setpgid_host_pid",
               "setpgid_host_pid_to_mine", "getpgid_host", "getsid_host", "kill_host_pgrp", "kill_host_sid",
               "child_setpgid_host_after_setsid", "child_tiocspgrp_host", "child_tiocspgrp_host_stdout"):  # fmt: skip
        assert rep.failed(op), (op, rep.r[op])


def test_setuid_programs_run_without_privilege() -> None:
    """setuid_exec.sh: su, passwd, chsh, chfn, gpasswd, chage, newgrp, mount, umount, unix_chkpwd."""
    p = motte(["sh", "/h/setuid_exec.sh"], mounts=[(HOSTILE, "/h", "ro")], timeout=120)
    rep = Report.parse(p.stdout)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stdout, p.stderr)
    assert len(fields(rep, "SETID")) >= 5, "the host's set-ID programs are not in the view"
    assert b"SU-ROOT-0" not in p.stdout, "su ran a command as root"
    exits = {f[0]: int(f[1]) for f in fields(rep, "EXIT")}
    succeeded = {k: v for k, v in exits.items() if v == 0}
    assert not succeeded, f"set-ID programs that succeeded: {succeeded}"
    assert fields(rep, "ID") == [["1000", "1000"]]
    assert "MOUNTS-SAME" in rep.lines and "PASSWD-SAME" in rep.lines


def test_zombie_flood_is_bounded(bins: Path) -> None:
    """zombie_flood: unreaped children until fork fails, under --pids 32."""
    tg, limit = tag(), 32
    count_before = host_process_count()
    proc = popen_motte(["/t/zombie_flood", "1000", tg], mounts=[(bins, "/t", "ro")],
                       opts=["--pids", str(limit), "--timeout", "30"])  # fmt: skip
    try:
        lines = read_until(proc, "FORKED", 30)
        ns = pidns_of("zombie_flood", tg)
        assert ns is not None and lines and lines[-1].startswith("FORKED"), lines
        in_sandbox = len(in_pidns(ns))
        grown = host_process_count() - count_before
    finally:
        kill_tree(proc, "zombie_flood", tg)
    forked = int(lines[-1].split("\t")[1])
    assert forked < limit and lines[-1].endswith("EAGAIN"), lines[-1]
    assert in_sandbox <= limit, f"{in_sandbox} processes (zombies included) in a sandbox limited to {limit}"
    # Other activity on the machine moves this too: only a flood shows.
    assert grown <= limit + 100, f"the host's process table grew by {grown}"
    assert wait_for(lambda: not in_pidns(ns, zombies=False), 5), "processes left behind"


def test_fork_bomb_of_every_process_call_is_bounded(bins: Path) -> None:
    """forkbomb_clone: fork, vfork, raw clone, CLONE_PARENT, posix_spawn, double forks, under --pids 64."""
    tg, limit = tag(), 64
    proc = popen_motte(["/t/forkbomb_clone", tg], mounts=[(bins, "/t", "ro")],
                       opts=["--pids", str(limit), "--timeout", "4"])  # fmt: skip
    peak = 0
    ns = None
    try:
        end = time.monotonic() + 20
        while proc.poll() is None and time.monotonic() < end:
            if ns is None:
                pids = procs_with("forkbomb_clone", tg)
                with contextlib.suppress(OSError, IndexError):
                    ns = os.readlink(f"/proc/{pids[0]}/ns/pid")
            if ns is not None:
                peak = max(peak, tasks_in(in_pidns(ns)))
            time.sleep(0.05)
        assert proc.poll() is not None, "motte did not end the sandbox at its wall time limit"
        _, err = proc.communicate(timeout=10)
    finally:
        kill_tree(proc, "forkbomb_clone", tg)
    assert proc.returncode == 137 and b"wall time limit" in err, (proc.returncode, err)
    assert ns is not None and peak > 1, "the bomb never ran"
    assert peak <= limit, f"{peak} tasks in a sandbox limited to {limit}"
    assert wait_for(lambda: not in_pidns(ns, zombies=False) and not procs_with("forkbomb_clone", tg), 5)


def test_thread_bomb_is_bounded(bins: Path) -> None:
    """thread_bomb: threads (native clones the library OS never sees) until refused, under --pids 64."""
    tg, limit = tag(), 64
    proc = popen_motte(["/t/thread_bomb", "10000", tg], mounts=[(bins, "/t", "ro")],
                       opts=["--pids", str(limit), "--timeout", "30"])  # fmt: skip
    try:
        lines = read_until(proc, "THREADS", 30)
        ns = pidns_of("thread_bomb", tg)
        assert ns is not None and lines and lines[-1].startswith("THREADS"), lines
        tasks = tasks_in(in_pidns(ns))
    finally:
        kill_tree(proc, "thread_bomb", tg)
    made = int(lines[-1].split("\t")[1])
    assert made < limit and lines[-1].endswith("EAGAIN"), lines[-1]
    assert tasks <= limit, f"{tasks} tasks in a sandbox limited to {limit}"
    assert wait_for(lambda: not in_pidns(ns, zombies=False), 5), "tasks left behind"


def _watch_memory(proc: subprocess.Popen, prog: str, tg: str, timeout: float) -> float:
    """Peak resident memory of the sandbox's processes (MB), sampled until motte ends."""
    peak = 0.0
    ns = None
    end = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < end:
        if ns is None:
            pids = procs_with(prog, tg)
            with contextlib.suppress(OSError, IndexError):
                ns = os.readlink(f"/proc/{pids[0]}/ns/pid")
        if ns is not None:
            peak = max(peak, rss_mb(in_pidns(ns, zombies=False)))
        time.sleep(0.02)
    return peak


@pytest.mark.parametrize("mode", ["anon", "fork"])
def test_memory_bomb_is_bounded(bins: Path, mode: str) -> None:
    """memory_bomb: touched anonymous memory, in one process or four at once, under --memory 256."""
    tg, limit = tag(), 256
    argv = ["/t/memory_bomb", "anon", "2048", tg] if mode == "anon" else ["/t/memory_bomb", "fork", "4", "200", tg]
    proc = popen_motte(argv, mounts=[(bins, "/t", "ro")], opts=["--memory", str(limit), "--timeout", "60"])
    try:
        peak = _watch_memory(proc, "memory_bomb", tg, 60)
        out, err = proc.communicate(timeout=30)
    finally:
        kill_tree(proc, "memory_bomb", tg)
    held = [int(f[1]) for f in fields(Report.parse(out), "HELD")]
    assert held, (out[-500:], err)
    assert peak <= limit + 32, f"the sandbox held {peak:.0f} MB resident under a {limit} MB limit"
    assert max(held) <= limit + 16, f"one process touched {max(held)} MB under a {limit} MB limit"
    assert b"GOT-ALL\t" not in out or mode == "fork", "the whole request was granted"


def test_memory_outside_the_address_space_is_bounded(bins: Path) -> None:
    """memfd_bomb: memfd grown by write(2), detached System V segments, /dev/shm, under --memory 256."""
    tg, limit = tag(), 256
    proc = popen_motte(["/t/memfd_bomb", "1024", tg], mounts=[(bins, "/t", "ro")],
                       opts=["--memory", str(limit), "--timeout", "60"])  # fmt: skip
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        kill_tree(proc, "memfd_bomb", tg)
    held = [int(f[1]) for f in fields(Report.parse(out), "HELD")]
    assert held, (out[-500:], err)
    assert max(held) <= limit + 16, f"the sandbox held {max(held)} MB of shared memory under a {limit} MB limit"


def test_fd_exhaustion_leaves_the_library_os_serving(bins: Path) -> None:
    """fd_exhaustion: files, /proc files, pipes, sockets, eventfds, epolls, dups until EMFILE, two processes."""
    limit = 64
    p, rep = run_hostile(bins, "fd_exhaustion", opts=["--nofile", str(limit)])
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    for who in ("parent", "child"):
        assert counter(rep, f"{who}:fds_taken") <= limit - 3 + 7, counter(rep, f"{who}:fds_taken")
        assert rep.err(f"{who}:last_error") == "EMFILE"
        for op in ("full_stat", "full_uname", "full_readlink"):
            assert rep.err(f"{who}:{op}") == "OK", (who, op)
        assert rep.r[f"{who}:full_getuid"][0] == 1000
        assert rep.err(f"{who}:full_open") == "EMFILE"
        assert rep.r[f"{who}:open_after_close_10"][0] == 10
    assert rep.err("final_open") == "OK"


def test_disk_filling_stops_at_the_writable_layer(bins: Path) -> None:
    """disk_fill: /tmp, $HOME, /dev/shm, /etc's upper layer, a copy-up, fallocate, a sparse terabyte, --disk 16."""
    disk = 16
    free_before = shutil.disk_usage("/").free
    big = os.path.realpath("/usr/bin/python3")
    p, rep = run_hostile(bins, "disk_fill", big, opts=["--disk", str(disk)], user="root", timeout=120)
    free_after = shutil.disk_usage("/").free
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    filled = {f[0]: (int(f[1]), f[2]) for f in fields(rep, "FILLED")}
    assert all(e == "ENOSPC" for _, e in filled.values()), filled
    assert counter(rep, "total_mb") <= disk, filled
    for op in ("copy_up_big_file", "fallocate_1g", "pwrite_at_1t"):
        assert rep.err(op) == "ENOSPC", (op, rep.r[op])
    assert rep.err("write_after_free") == "OK"
    # (other activity on the machine moves this too: only a runaway fill shows)
    assert free_before - free_after < 1 << 30, "the host's disk filled up"


def test_trapped_call_flood_starves_no_one(bins: Path) -> None:
    """trap_flood: six processes flood trapped calls; a prober of the same sandbox and a second sandbox."""
    proc = popen_motte(["/t/trap_flood", "6", "5"], mounts=[(bins, "/t", "ro")])
    try:
        time.sleep(1.5)
        t0 = time.monotonic()
        second = motte(["cat", "/etc/hostname"], timeout=60)
        second_s = time.monotonic() - t0
        out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(OSError):
            proc.kill()
    rep = Report.parse(out)
    assert proc.returncode == 0 and "DONE" in rep.lines, (proc.returncode, err)
    assert second.returncode == 0 and second.stdout == b"motte\n", second
    assert second_s < 10, f"a second sandbox took {second_s:.1f} s to start and answer during the flood"
    probes, worst_us = (int(x) for x in fields(rep, "PROBE")[0])
    assert probes > 20, probes
    assert worst_us < 1_000_000, f"a trapped call of the prober waited {worst_us / 1e6:.2f} s"
    assert counter(rep, "flood_calls") > 1000


# --------------------------------------------------------------------------- identity


def test_host_identity_sys_proc_and_keyrings(bins: Path) -> None:
    """identity_host: /sys, host /proc files, uid_map/oom_score_adj writes, keyrings, setuid(0), capset."""

    def keys() -> tuple[str, str]:
        with open("/proc/keys") as a, open("/proc/key-users") as b:
            return a.read(), b.read()

    before = keys()
    p, rep = run_hostile(bins, "identity_host")
    assert keys() == before, "the host's kernel keyrings changed"
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    for k, (ret, _) in rep.r.items():
        if k.startswith("open:/sys") or k.startswith("write:") or k.startswith(("keyctl", "add_key", "request_key")):
            assert ret < 0, f"{k} succeeded"
    for k in ("/proc/kcore", "/proc/kallsyms", "/proc/keys", "/proc/key-users", "/proc/sysrq-trigger",
              "/proc/sys/kernel/core_pattern", "/proc/self/uid_map", "/proc/self/mem"):  # fmt: skip
        assert rep.err(f"open:{k}") == "ENOENT", k
    for op in ("setuid0", "setresuid0", "capset_all"):
        assert rep.err(op) == "EPERM", op
    assert rep.r["uid_now"][0] == 1000


@pytest.mark.parametrize("user", ["user", "root"])
def test_priorities_of_a_whole_user_stay_in_the_sandbox(bins: Path, user: str) -> None:
    """priority_user: setpriority(PRIO_USER), ioprio_set(IOPRIO_WHO_USER), realtime and deadline scheduling."""
    with host_sleep(tag()) as hs:
        before = (os.getpriority(os.PRIO_PROCESS, hs.pid), ioprio_get(hs.pid),
                  os.getpriority(os.PRIO_PROCESS, 0), ioprio_get(os.getpid()))  # fmt: skip
        p, rep = run_hostile(bins, "priority_user", user=user)
        after = (os.getpriority(os.PRIO_PROCESS, hs.pid), ioprio_get(hs.pid),
                 os.getpriority(os.PRIO_PROCESS, 0), ioprio_get(os.getpid()))  # fmt: skip
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert after == before, f"host processes' (nice, ioprio) changed: {before} -> {after}"
    for op in ("prio_process_raise", "ioprio_self_rt", "sched_fifo", "sched_deadline"):
        assert rep.failed(op), (op, rep.r[op])


@pytest.fixture(scope="module")
def virtual_perms_run(bins: Path) -> tuple[subprocess.CompletedProcess, Report]:
    return run_hostile(bins, "virtual_perms", user="root")


def test_virtual_users_stay_apart(virtual_perms_run) -> None:
    """virtual_perms: uid 1000 through root's 0700 directory (by path, a symlink, "..", O_PATH, a dirfd root
    left open, /proc/self/root), and fexecve of root's 0700 program."""
    p, rep = virtual_perms_run
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert rep.r["uid_now"][0] == 1000
    assert b"ROOT-PRIVATE-DIR-CONTENT" not in rep.everything(), "uid 1000 read a file inside root's 0700 directory"
    for op in ("open_through_closed_dir", "stat_through_closed_dir", "list_closed_dir", "chdir_closed_dir",
               "execve_rootonly", "open_symlink_into_closed", "stat_dotdot_after_closed", "opath_through_closed",
               "open_from_held_dirfd", "open_through_proc_root", "link_out_of_closed",
               "open_after_acl", "passwd_for_writing", "xattr_user_in_closed", "inotify_in_closed",
               "connect_in_closed", "bind_in_closed", "getxattr_private_file", "getxattr_in_closed",
               "listxattr_in_closed"):  # fmt: skip
        assert rep.err(op) == "EACCES", (op, rep.r[op])
    assert rep.failed("open_hard_link"), rep.r["open_hard_link"]
    for op in ("acl_on_closed_dir", "acl_on_etc_passwd"):
        assert rep.err(op) == "EOPNOTSUPP", (op, rep.r[op])
    assert rep.r["open_through_searchable_dir"][0] >= 0, rep.r["open_through_searchable_dir"]
    assert rep.err("list_searchable_dir") == "EACCES", rep.r["list_searchable_dir"]
    fexec = fields(rep, "FEXEC")
    assert fexec == [["exit", "100"]], f"uid 1000 ran root's 0700 program through execveat(O_PATH fd): {fexec}"


def test_fexecve_of_a_permitted_program_runs(virtual_perms_run) -> None:
    """virtual_perms: execveat(O_PATH fd of /bin/true, "", AT_EMPTY_PATH) must run the program, served after."""
    p, rep = virtual_perms_run
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    assert fields(rep, "EXEC_TRUE") == [["exit", "0"]], f"/bin/true by execve ended {fields(rep, 'EXEC_TRUE')}"
    assert fields(rep, "FEXEC_TRUE") == [["exit", "0"]], (
        f"/bin/true run by fexecve ended {fields(rep, 'FEXEC_TRUE')}: {p.stderr[-300:]!r}"
    )


DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


def test_host_device_nodes_do_not_change(bins: Path) -> None:
    """device_nodes: chmod (same mode), utimensat, chown, xattrs, rename of the view's /dev nodes, as root."""
    before = {d: os.stat(d) for d in DEVICES}
    keys = {d: stat_key(d) for d in DEVICES}
    try:
        p, rep = run_hostile(bins, "device_nodes", user="root")
        after = {d: stat_key(d) for d in DEVICES}
    finally:
        for d, st in before.items():  # put back what an escape changed (ctime cannot be)
            with contextlib.suppress(OSError):
                if os.stat(d).st_mtime_ns != st.st_mtime_ns:
                    os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns))
                if os.stat(d).st_mode != st.st_mode:
                    os.chmod(d, st.st_mode & 0o7777)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    changed = {d: [n for n, b, a in zip(("mode", "uid", "gid", "size", "mtime", "ctime", "xattrs"), keys[d], after[d], strict=True) if b != a]  # fmt: skip
               for d in DEVICES if keys[d] != after[d]}  # fmt: skip
    assert not changed, (
        f"the sandbox's root changed the host's device nodes: {changed}; "
        f"calls that succeeded: {[k for k, v in rep.r.items() if v[0] >= 0 and not k.startswith(('chown', 'write'))]}"
    )
    for op in ("rename_null", "unlink_zero", "link_null", "mknod_in_dev"):
        assert rep.failed(op), op


def test_killed_fifo_openers_leave_no_library_os_threads(tmp_path: Path) -> None:
    """Ten processes block opening FIFOs that no one will ever open the other
    way (five readers of one, five writers of another), and are killed. Each
    blocking FIFO open waits on a library-OS worker thread (the loop goes on
    serving others); the worker of a killed caller must end, with the fd it
    held, not wait for a peer for good."""
    script = mkdir755(tmp_path / "s") / "fifo.sh"
    script.write_text(
        "echo begin\n"
        "mkfifo /tmp/r /tmp/w\n"
        "for i in 1 2 3 4 5; do ( exec cat /tmp/r > /dev/null ) & echo $! >> /tmp/pids; done\n"
        "for i in 1 2 3 4 5; do ( exec sh -c 'echo x > /tmp/w' ) & echo $! >> /tmp/pids; done\n"
        "sleep 0.5; echo waiting\n"
        "kill -9 $(cat /tmp/pids); sleep 1.5; echo killed\n"
        "ls /tmp > /dev/null; echo end\n"
    )
    p = subprocess.Popen(
        [MOTTE, "run", "--mount", f"{script.parent}:/s:ro", "--", "sh", "/s/fifo.sh"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: dict[str, tuple[int, int]] = {}
    assert p.stdout is not None
    for line in p.stdout:
        seen[line.strip()] = (len(os.listdir(f"/proc/{p.pid}/task")), len(os.listdir(f"/proc/{p.pid}/fd")))
    p.wait(timeout=60)
    assert p.returncode == 0 and "end" in seen, (p.returncode, seen, p.stderr.read() if p.stderr else "")
    # (threads, fds) of motte: ten workers more while the opens wait
    assert seen["waiting"][0] >= seen["begin"][0] + 10, seen
    # once their callers are killed the workers are gone; only the watchdog
    # that ended them stays
    assert seen["killed"][0] <= seen["begin"][0] + 1, seen


def test_exec_race_from_a_process_sharing_memory(bins: Path) -> None:
    """race_exec_sibling: a CLONE_VM child or CLONE_VM|CLONE_PARENT sibling rewrites the exec path of uid 1000
    to root's program in a 0700 directory."""
    p, rep = run_hostile(bins, "race_exec_sibling", "2", user="root", timeout=60)
    assert p.returncode == 0 and "DONE" in rep.lines, (p.returncode, p.stderr)
    sharers = dict((k, v) for k, v in fields(rep, "SHARER"))
    assert sharers == {"clone_vm_child": "100", "clone_vm_sibling": "100"}, sharers
    tries, ran_true, refused, other, rootonly = (int(x) for x in fields(rep, "RACE")[0])
    assert tries > 20, "the race did not run"
    assert rootonly == 0, f"uid 1000 ran root's program in a 0700 directory {rootonly} times out of {tries}"
