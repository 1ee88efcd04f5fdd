"""Creates a sandbox: namespaces, the kernel-visible root, limits, the
seccomp filter, and the first program; hands the library OS its listener.

Process tree (host view):

    motte (monitor + library OS)
      └─ keeper: unshares user/mount/pid/net/ipc/uts/cgroup namespaces,
         │       waits for pid 1 and reports its status; dies with motte
         └─ pid 1 of the sandbox: builds the root, drops every capability,
                 sets no_new_privs and the rlimits, installs the filter,
                 then execs the program (a trapped execve the library OS
                 serves). Dies with the keeper, and with it every process
                 of the pid namespace.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import resource
import signal
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from motte.errors import MotteError, UsageError
from motte.kernel import libc, seccomp
from motte.manifest import Manifest
from motte.monitor.cgroup import SandboxCgroups
from motte.monitor.identity import Identity
from motte.monitor.rootfs import build_root
from motte.monitor.stdio import StdioRelays
from motte.monitor.view import ViewEntry, open_sources
from motte.picoprocess.filter import filter_bytes


@dataclass
class Sandbox:
    """What the monitor hands the library OS: fds, never host paths."""

    keeper_pid: int
    pid1: int  # host pid of the sandbox's pid 1
    listener_fd: int
    root_fd: int  # O_PATH fd on the sandbox's root, in its mount namespace
    scratch_fd: int | None  # the writable layer's tmpfs, outside the root: /proc directories live here
    status_fd: int  # the keeper writes pid 1's wait status here
    pty_master_fd: int | None
    ack_fd: int  # tells pid 1 the path to exec
    joining: Callable[[], None] | None = None  # waits for pid 1's cgroup move, raises if it failed


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _read_msg(fd: int) -> bytes:
    chunks = []
    while True:
        b = os.read(fd, 4096)
        if not b:
            break
        chunks.append(b)
        if b.endswith(b"\n"):
            break
    return b"".join(chunks)


def _loopback_up() -> None:
    fd = libc.socket_fd(2, 2)  # AF_INET, SOCK_DGRAM: any socket carries the ioctls
    try:
        ifr = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(fd, 0x8913, ifr))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(fd, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))  # SIOCSIFFLAGS IFF_UP
    finally:
        os.close(fd)


def _close_all_but(keep: set[int]) -> None:
    lo = 3
    for fd in sorted(keep):
        if fd >= lo:
            os.closerange(lo, fd)
            lo = fd + 1
    os.closerange(lo, 1 << 20)


def _set_limits(m: Manifest, in_cgroup: bool) -> None:
    lim = m.limits
    if lim.open_files:
        resource.setrlimit(resource.RLIMIT_NOFILE, (lim.open_files, lim.open_files))
    if lim.memory_mb and not in_cgroup:  # the memory cgroup bounds the whole sandbox instead
        b = lim.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (b, b))
    if lim.processes:
        # Counted by the kernel per (user namespace, uid): every process and
        # thread of the sandbox, whether or not the library OS has seen it.
        resource.setrlimit(resource.RLIMIT_NPROC, (lim.processes, lim.processes))
    if lim.cpu_seconds:
        # SIGXCPU at the limit (as `ulimit -t` gives), SIGKILL a second later
        # for a program that catches it.
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _pid1(
    m: Manifest,
    entries: list[ViewEntry],
    fds: dict[str, int],
    persist: str | None,
    ident: Identity,
    report_w: int,
    ack_r: int,
    in_cgroup: bool,
    stdio: dict[int, int],
    cpus: set[int] | None,
) -> None:
    """The sandbox's first process, before it becomes the program."""
    try:
        for num, fd in stdio.items():  # pipes standing for host files (monitor/stdio.py)
            if fd >= 0:
                os.dup2(fd, num)
        # Its parent (the keeper) is outside the new pid namespace, so
        # getppid() says 0 here: no re-check is possible, and none is needed
        # since the keeper outlives it by waiting for it.
        libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
        # Nothing motte's caller left open reaches the program: only the
        # set-up pipes survive, and they are closed before the exec.
        _close_all_but({report_w, ack_r})
        last_cap = libc.last_cap()  # /proc is gone once the root is built
        scratch = build_root(entries, m.limits.writable_layer_mb, persist, ident.uid, ident.gid)
        _write_all(report_w, b"S%d\n" % scratch)
        libc.sethostname(m.hostname)
        libc.setdomainname(m.kernel.domainname)
        _loopback_up()
        try:
            os.chdir(m.workdir or ident.home or "/")
        except OSError as e:
            raise MotteError(f"--workdir {m.workdir}: {e.strerror} in the sandbox", 2) from None
        os.setsid()
        pty_master = None
        if m.tty:
            # The terminal comes from the sandbox's own devpts instance, so
            # that its name (/dev/pts/0) means the same inside.
            pty_master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
            fcntl.ioctl(pty_master, 0x40045431, struct.pack("i", 0))  # TIOCSPTLCK: unlock
            n = struct.unpack("I", fcntl.ioctl(pty_master, 0x80045430, b"\0" * 4))[0]  # TIOCGPTN
            slave = os.open(f"/dev/pts/{n}", os.O_RDWR)
            fcntl.ioctl(slave, 0x540E, 0)  # TIOCSCTTY
            for i in (0, 1, 2):
                os.dup2(slave, i)
            os.close(slave)
            _write_all(report_w, b"T%d\n" % pty_master)
        _set_limits(m, in_cgroup)
        # The program starts as from a clean shell: Python's own dispositions
        # (SIGPIPE and SIGXFSZ ignored) and mask must not leak into it.
        for sig in range(1, signal.NSIG):
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                with contextlib.suppress(OSError, ValueError, RuntimeError):
                    signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        libc.drop_all_capabilities(last_cap)
        libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1)
        prog = filter_bytes()
        env = {k.encode(): v.encode() for k, v in m.env.items()}
        argv = [a.encode() for a in m.argv]
    except MotteError as e:
        _write_all(report_w, f"E{e.status} {e}\n".encode())
        os._exit(1)
    except Exception as e:  # report, never a traceback from a half-built sandbox
        _write_all(report_w, f"E125 sandbox set-up failed: {e}\n".encode())
        os._exit(1)
    # From here on only allowed calls (write, read, close) until execve,
    # which is trapped and served once the library OS holds the listener.
    try:
        listener = seccomp.install_filter(
            prog, seccomp.SECCOMP_FILTER_FLAG_NEW_LISTENER | seccomp.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
        )
    except OSError as e:
        _write_all(report_w, f"E125 cannot install the seccomp filter: {e.strerror}\n".encode())
        os._exit(1)
    os.write(report_w, b"L%d\n" % listener)
    # The library OS answers with the program's path in the sandbox, found
    # on the sandbox's PATH; an empty line means: not found.
    path = b""
    while not path.endswith(b"\n"):
        b = os.read(ack_r, 4096)
        if not b:
            os._exit(1)
        path += b
    os.close(listener)
    os.close(scratch)
    if pty_master is not None:
        os.close(pty_master)
    os.close(report_w)
    os.close(ack_r)
    if path == b"\n":
        os._exit(127)
    if cpus is not None:
        # Set here, not inherited from motte, so that building the root above
        # ran beside motte's own start-up on another CPU.
        os.sched_setaffinity(0, cpus)
    for num, fd in stdio.items():
        if fd < 0:
            os.close(num)  # motte was started without it: so is the program
    try:
        os.execve(path[:-1], argv, env)
    except OSError as e:
        os._exit(127 if e.errno == 2 else 126)


def _keeper(
    m: Manifest,
    entries: list[ViewEntry],
    fds: dict[str, int],
    persist: str | None,
    ident: Identity,
    sync_r: int,
    sync_w: int,
    report_w: int,
    ack_r: int,
    status_w: int,
    keep: set[int],
    in_cgroup: bool,
    stdio: dict[int, int],
    cpus: set[int] | None,
) -> None:
    libc.prctl(libc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:
        os._exit(1)
    try:
        libc.unshare(
            libc.CLONE_NEWUSER
            | libc.CLONE_NEWNS
            | libc.CLONE_NEWPID
            | libc.CLONE_NEWNET
            | libc.CLONE_NEWIPC
            | libc.CLONE_NEWUTS
            | libc.CLONE_NEWCGROUP
        )
    except OSError as e:
        _write_all(report_w, f"E125 cannot create namespaces: {e.strerror}\n".encode())
        os._exit(1)
    os.write(sync_w, b"u")
    if os.read(sync_r, 1) != b"g":
        os._exit(1)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    pid = os.fork()
    if pid == 0:
        os.close(status_w)
        _pid1(m, entries, fds, persist, ident, report_w, ack_r, in_cgroup, stdio, cpus)
        os._exit(1)
    _write_all(report_w, b"P%d\n" % pid)
    # Hold nothing of the sandbox: only the status pipe.
    for fd in keep:
        if fd != status_w:
            with contextlib.suppress(OSError):
                os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            status = 1 << 8
            break
        except InterruptedError:
            continue
    os.write(status_w, struct.pack("i", status))
    os._exit(0)


def spawn(
    m: Manifest,
    entries: list[ViewEntry],
    ident: Identity,
    cgroup: SandboxCgroups | None = None,
    stdio: StdioRelays | None = None,
    cpus: set[int] | None = None,
) -> Callable[[], Sandbox]:
    """Start the sandbox; the function returned waits until the library OS
    can take over (motte does its own start-up meanwhile: pid 1 builds the
    root on another CPU until it execs, where it takes `cpus`). `stdio`'s
    pipes replace the host files among fds 0-2."""
    child_stdio = stdio.child_fds() if stdio is not None and not m.tty else {}
    # Checked here, so that a bad source is a usage error before anything
    # starts; opened again by pid 1 inside its own mount namespace.
    for fd in open_sources(entries).values():
        os.close(fd)
    fds: dict[str, int] = {}
    persist = None
    if m.persist:
        try:
            os.makedirs(m.persist, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--persist {m.persist}: {e.strerror}") from None
        persist = os.path.abspath(m.persist)
    sync_p2k_r, sync_p2k_w = os.pipe()
    sync_k2p_r, sync_k2p_w = os.pipe()
    report_r, report_w = os.pipe()
    ack_r, ack_w = os.pipe()
    status_r, status_w = os.pipe()
    keep = set(fds.values()) | {sync_p2k_r, sync_k2p_w, report_w, ack_r, status_w}
    keep |= stdio.all_fds() if stdio is not None else set()
    for stream in (sys.stdout, sys.stderr):  # None when motte was started without it
        if stream is not None:
            stream.flush()
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (sync_p2k_w, sync_k2p_r, report_r, ack_w, status_r):
                os.close(fd)
            _keeper(
                m,
                entries,
                fds,
                persist,
                ident,
                sync_p2k_r,
                sync_k2p_w,
                report_w,
                ack_r,
                status_w,
                keep,
                cgroup is not None and cgroup.memory_path is not None,
                child_stdio,
                cpus,
            )
        finally:
            os._exit(1)
    for fd in (sync_p2k_r, sync_k2p_w, report_w, ack_r, status_w):
        os.close(fd)
    for fd in fds.values():
        os.close(fd)

    def fail(msg: str, status: int = 125) -> MotteError:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        return MotteError(msg, status)

    if os.read(sync_k2p_r, 1) != b"u":
        raise fail(_read_msg(report_r).decode().strip()[4:] or "cannot create the sandbox's namespaces")
    uid, gid = os.geteuid(), os.getegid()
    try:
        with open(f"/proc/{pid}/setgroups", "w") as f:
            f.write("deny")
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(f"0 {uid} 1")
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(f"0 {gid} 1")
    except OSError as e:
        raise fail(f"cannot map the sandbox's user namespace: {e.strerror}") from None
    os.write(sync_p2k_w, b"g")
    os.close(sync_p2k_w)
    os.close(sync_k2p_r)
    return lambda: _finish(pid, report_r, ack_w, status_r, cgroup, fail)


def _finish(
    pid: int,
    report_r: int,
    ack_w: int,
    status_r: int,
    cgroup: SandboxCgroups | None,
    fail: Callable[..., MotteError],
) -> Sandbox:
    pid1 = None
    joining = None
    scratch_num = None
    pty_num = None
    listener_num = None
    buf = b""
    while listener_num is None:
        chunk = os.read(report_r, 4096)
        if not chunk:
            raise fail("the sandbox's first process died during set-up")
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.startswith(b"P"):
                pid1 = int(line[1:])
                if cgroup is not None:
                    # Moved on a thread of its own while pid 1 builds its
                    # root and motte starts the library OS (a cgroup move
                    # waits for RCU grace periods: 10-20 ms on cgroup v1);
                    # pid 1 forks nothing before it execs, which waits for
                    # the move, so every process of the sandbox is counted.
                    joining = _in_background(cgroup.add, pid1, fail)
            elif line.startswith(b"T"):
                pty_num = int(line[1:])
            elif line.startswith(b"S"):
                scratch_num = int(line[1:])
            elif line.startswith(b"L"):
                listener_num = int(line[1:])
            elif line.startswith(b"E"):
                code, _, msg = line[1:].decode().partition(" ")
                raise fail(msg, int(code))
    assert pid1 is not None
    pidfd = libc.pidfd_open(pid1)
    try:
        listener = libc.pidfd_getfd(pidfd, listener_num)
        scratch_fd = libc.pidfd_getfd(pidfd, scratch_num) if scratch_num is not None else None
        pty_master = libc.pidfd_getfd(pidfd, pty_num) if pty_num is not None else None
        root_fd = os.open(f"/proc/{pid1}/root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    finally:
        os.close(pidfd)
    os.set_inheritable(listener, False)
    os.close(report_r)
    return Sandbox(pid, pid1, listener, root_fd, scratch_fd, status_r, pty_master, ack_w, joining)


def _in_background(move: Callable[[int], None], pid: int, fail: Callable[..., MotteError]) -> Callable[[], None]:
    """Run move(pid) on a thread; the function returned waits for it and
    raises (having ended the sandbox) if it failed."""
    errors: list[OSError] = []

    def work() -> None:
        try:
            move(pid)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=work, name="motte-cgroup", daemon=True)
    t.start()

    def join() -> None:
        t.join()
        if errors:
            raise fail(f"cannot join the sandbox's cgroups: {errors[0].strerror}")

    return join


def start_program(sb: Sandbox, path: str | None) -> None:
    """Tell pid 1 which file to exec (None: the program was not found), once
    it is in the sandbox's cgroups."""
    if sb.joining is not None:
        sb.joining()
    os.write(sb.ack_fd, (path or "").encode() + b"\n")
    os.close(sb.ack_fd)


__all__ = ["Sandbox", "spawn", "start_program"]
