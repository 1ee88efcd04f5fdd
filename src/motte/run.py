"""`motte run`: start a sandbox from a manifest, serve it, report its exit.

Joins the three layers: the monitor builds the sandbox and hands over fds,
the library OS serves the program's trapped calls on its own thread, and
this module relays the terminal and turns pid 1's end into motte's status.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import select
import signal
import stat as st
import struct
import sys
import termios
import threading
import time
import tty
from typing import TYPE_CHECKING

from motte.errors import EXIT_NOT_FOUND, MotteError
from motte.manifest import DEFAULT_PATH, Manifest, cpu_set, validate
from motte.monitor.cgroup import SandboxCgroups
from motte.monitor.hostproc import PicoprocessAccess
from motte.monitor.identity import build_identity
from motte.monitor.spawn import Sandbox, spawn, start_program
from motte.monitor.stdio import StdioRelays
from motte.monitor.view import plan_view

if TYPE_CHECKING:
    from motte.libos.kernel import LibOS

# The library OS's modules are imported while the sandbox's pid 1 builds its
# root (see run): a third of motte's start-up, done beside it.


def default_env(m: Manifest, home: str, name: str) -> dict[str, str]:
    env = {
        "PATH": DEFAULT_PATH,
        "HOME": home,
        "USER": name,
        "LOGNAME": name,
        "HOSTNAME": m.hostname,
        "LANG": "C.UTF-8",
    }
    if m.tty:
        env["TERM"] = os.environ.get("TERM", "xterm")
    env.update(m.env)
    return env


def find_program(libos: LibOS, prog: str, path: str, cwd: str) -> str | None:
    """PROGRAM on the sandbox's PATH, inside the sandbox's view."""
    from motte.libos.fs import statbuf
    from motte.libos.kernel import X_OK

    creds = libos.procs.initial_creds
    candidates = [prog] if "/" in prog else [f"{d or '.'}/{prog}" for d in path.split(":")]
    for c in candidates:
        full = c if c.startswith("/") else f"{cwd.rstrip('/')}/{c}"
        try:
            fd = libos.resolver.open(full.encode(), os.O_PATH)
        except OSError:
            continue
        try:
            sx = statbuf.statx_fd(fd)
        finally:
            os.close(fd)
        if st.S_ISREG(sx.mode) and libos.may(creds, sx, X_OK):
            return full
    return None


def _exit_status(raw: int, libos: LibOS) -> int:
    if os.WIFEXITED(raw):
        return os.WEXITSTATUS(raw)
    if os.WIFSIGNALED(raw):
        sig = os.WTERMSIG(raw)
        if sig == signal.SIGKILL and libos.pid1_fatal_signal:
            sig = libos.pid1_fatal_signal
        return 128 + sig
    return 125


class _Terminal:
    """Relays the user's terminal to the sandbox's pseudo-terminal."""

    def __init__(self, master: int, interactive: bool) -> None:
        self.master = master
        self.interactive = interactive and sys.stdin.isatty()
        self.saved = None
        if self.interactive:
            self.saved = termios.tcgetattr(0)
            tty.setraw(0)
        self.resize()

    def resize(self, *_: object) -> None:
        try:
            import fcntl

            ws = fcntl.ioctl(1 if sys.stdout.isatty() else 0, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, ws)
        except OSError:
            pass

    def pump(self, status_fd: int) -> bytes:
        fds = [self.master, status_fd] + ([0] if self.interactive or not sys.stdin.isatty() else [])
        stdin_open = 0 in fds
        while True:
            r, _, _ = select.select(fds, [], [])
            if status_fd in r:
                self._drain()
                return os.read(status_fd, 4)
            if self.master in r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                if not data:
                    fds.remove(self.master)
                else:
                    os.write(1, data)
            if stdin_open and 0 in r:
                data = os.read(0, 65536)
                if not data:
                    fds.remove(0)
                    stdin_open = False
                    os.write(self.master, b"\x04")
                else:
                    os.write(self.master, data)

    def _drain(self) -> None:
        while True:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if not r:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            os.write(1, data)

    def restore(self) -> None:
        if self.saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, self.saved)


def run(m: Manifest) -> int:
    validate(m)
    ident = build_identity(m)
    entries = plan_view(m, ident)
    if not m.workdir:
        m.workdir = ident.home if ident.home not in ("", "/") else "/"
    m.env = default_env(m, ident.home, ident.name)
    # motte and the sandbox on the same CPUs (by default one: a trapped call
    # then wakes the library OS without a cross-CPU hop); set once the
    # sandbox's root is built, which runs meanwhile on another.
    cpus = cpu_set(m.limits.cpus)
    trace = open(m.trace, "w", buffering=1) if m.trace else None  # noqa: SIM115 - closed below
    # Rlimits (set in pid 1) bound an unprivileged invoker's sandbox; the
    # kernel exempts host root from RLIMIT_NPROC, so root gets cgroups.
    cgroup = SandboxCgroups.create(m.limits.processes, m.limits.memory_mb) if os.geteuid() == 0 else None
    relays = StdioRelays() if m.tty else StdioRelays.plan()
    try:
        started = spawn(m, entries, ident, cgroup, relays, cpus)
        from motte.kernel import seccomp
        from motte.libos.dispatch import Dispatcher
        from motte.libos.kernel import LibOS, SandboxConfig

        sb: Sandbox = started()
    except BaseException:
        relays.close()
        if cgroup is not None:
            cgroup.remove()
        raise
    if cpus is not None:
        os.sched_setaffinity(0, cpus)  # motte and its threads; pid 1 took them before its exec
    relays.start()
    config = SandboxConfig(
        hostname=m.hostname,
        kernel=m.kernel,
        uid=ident.uid,
        gid=ident.gid,
        invoker_uid=os.geteuid(),
        invoker_gid=os.getegid(),
        passwd=ident.passwd(),
        max_processes=m.limits.processes,
        view=[{"target": e.target, "kind": e.kind, "readonly": e.readonly} for e in entries],
        persisted=bool(m.persist),
    )
    host = PicoprocessAccess(sb.pid1)
    libos = LibOS(config, sb.root_fd, sb.scratch_fd, host)
    libos.register_user_mounts([e.target for e in entries if e.owned_by_user])
    for e in entries:
        if e.home:  # empty at start: only the directory itself needs an owner
            libos.set_owner(e.target, ident.uid, ident.gid)
    listener = seccomp.Listener(sb.listener_fd)
    listener.set_sync_wakeup()
    dispatcher = Dispatcher(libos, listener, trace, m.debug)
    dispatcher.on_death = lambda: os.kill(sb.keeper_pid, signal.SIGKILL)
    # SIGUSR1 interrupts the library OS's RECV at the end (see Dispatcher.stop).
    signal.signal(signal.SIGUSR1, lambda *_: None)
    server = threading.Thread(target=dispatcher.serve, name="motte-libos", daemon=True)
    server.start()

    prog = find_program(libos, m.argv[0], m.env.get("PATH", DEFAULT_PATH), m.workdir)
    start_program(sb, prog)

    def forward(signum: int, _frame: object) -> None:
        # As `docker run` does: a signal to motte goes to the program.
        with contextlib.suppress(OSError, KeyError):
            libos.signal_pid1(signum)

    for s in (signal.SIGTERM, signal.SIGHUP) + (() if m.tty else (signal.SIGINT,)):
        signal.signal(s, forward)

    deadline = time.monotonic() + m.limits.wall_seconds if m.limits.wall_seconds else None
    terminal = _Terminal(sb.pty_master_fd, m.interactive) if sb.pty_master_fd is not None else None
    if terminal is not None:
        signal.signal(signal.SIGWINCH, terminal.resize)
    timed_out = False
    try:
        if terminal is not None:
            raw = terminal.pump(sb.status_fd)
        else:
            while True:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                r, _, _ = select.select([sb.status_fd], [], [], timeout)
                if r:
                    raw = os.read(sb.status_fd, 4)
                    break
                timed_out = True
                # Pid 1 first: its end ends the whole pid namespace.
                with contextlib.suppress(OSError):
                    os.kill(sb.pid1, signal.SIGKILL)
                os.kill(sb.keeper_pid, signal.SIGKILL)
                raw = struct.pack("i", signal.SIGKILL)
                break
    finally:
        if terminal is not None:
            terminal.restore()
    dispatcher.stop()
    server.join(timeout=5)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(sb.keeper_pid, 0)
    relays.finish()
    memory_hit = cgroup is not None and cgroup.memory_exhausted()
    if cgroup is not None:
        cgroup.remove()
    if trace is not None:
        trace.close()
    if m.debug:
        for line in libos.log_lines:
            print(f"motte: {line}", file=sys.stderr)
    if prog is None:
        raise MotteError(f"{m.argv[0]}: not found in the sandbox", EXIT_NOT_FOUND)
    if timed_out:
        raise MotteError(f"wall time limit of {m.limits.wall_seconds}s (limits.wall_seconds) reached", 137)
    if len(raw) < 4:
        raise MotteError("the sandbox ended without a status", 125)
    status = _exit_status(struct.unpack("i", raw)[0], libos)
    if memory_hit:
        print(f"motte: memory limit of {m.limits.memory_mb} MB (limits.memory_mb) reached", file=sys.stderr)
    cpu_hit = bool(m.limits.cpu_seconds) and _cpu_spent() >= m.limits.cpu_seconds
    if status in (128 + signal.SIGXCPU, 128 + signal.SIGKILL) and cpu_hit:
        print(f"motte: CPU time limit of {m.limits.cpu_seconds}s (limits.cpu_seconds) reached", file=sys.stderr)
        # As pid 1 the program ignores the kernel's SIGXCPU and dies of the
        # SIGKILL a second later; outside it would have died of SIGXCPU.
        status = 128 + signal.SIGXCPU
    return status


def _cpu_spent() -> float:
    """CPU seconds the sandbox's processes used (the keeper's reaped children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


__all__ = ["run", "errno"]
