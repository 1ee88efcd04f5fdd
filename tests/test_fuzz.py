"""The system-call fuzzer (tests/fuzz/fuzz.c), judged from the host side.

The fuzzer runs inside a sandbox and throws random and mutated system calls
at the library OS (see the header of fuzz.c: what it calls, what it never
calls and why). Two sandboxes fuzz at the same time, one as the default user
and one as the sandbox's virtual root (`--user root`, whose calls take the
library OS's privileged paths: chown, setuid, ...). While they run, the host
side checks, for each:

1. the library OS never raises an unexpected exception: no traceback and no
   ``internal error in`` in the ``--debug`` output;
2. it never deadlocks: a second process of the same sandbox (the prober)
   gets its trapped calls (stat of /etc/hostname, getuid) answered within
   PROBE_LIMIT_S every PROBE_MS throughout, and the host keeps seeing its
   answers (no gap over GAP_LIMIT_S);
3. motte does not leak: its fd count, RSS and thread count, sampled every
   SAMPLE_S, stay under FD_LIMIT, RSS_LIMIT_MB and THREAD_LIMIT, and the fd
   and thread counts do not keep growing (FD_GROWTH_LIMIT,
   THREAD_GROWTH_LIMIT: the lowest count of the run's last fifth against
   that of its second fifth);
4. the host is unchanged afterwards: /etc in detail, the top levels of /,
   /root, /tmp, /var/tmp, /opt, /home, /work, /work/main, /usr/local and
   /dev/shm, the mount table and the hostname; the host device nodes the
   sandbox's /dev passes through (/dev/null, zero, full, random, urandom:
   modes, owners, times; DevGuard also puts back any change at once, so a
   failing run cannot leave the host broken); the host file the sandbox got
   as its stderr keeps its mode; the read-only mount of the fuzzer is
   untouched (the read-write mount at /scratch is a tmp dir the test made
   and may change);
5. motte exits with the fuzzer's status (0) and leaves nothing behind: no
   process of the sandbox's pid namespace or carrying the run's tag, no
   keeper, no cgroup;
6. the fuzzer did real work: it printed its summary, issued at least
   MIN_CALLS_PER_S calls a second and reached MIN_DISTINCT distinct numbers.

CI runs a short seeded pass (FUZZ_SECONDS, about 60 s in all). The long pass,
with any seed:

    MOTTE_FUZZ_SECONDS=600 MOTTE_FUZZ_SEED=7 .venv/bin/python -m pytest tests/test_fuzz.py
    .venv/bin/python tools/fuzz.py --seconds 600 --seed 7     # a report, and --trace for reproductions

Other knobs: MOTTE_FUZZ_WORKERS (per sandbox, default 4), MOTTE_FUZZ_USERS
(comma-separated `--user` values, "" for the default user; default ",root").
The run's raw output (stdout, stderr with the tracebacks) is kept in pytest's
tmp dir and named in every failure message.

This module is also the harness tools/fuzz.py imports: `compile_fuzzer`,
`FuzzRun`, `host_snapshot`, `host_changes`, `problems`.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FUZZ_SRC = HERE / "fuzz" / "fuzz.c"
MOTTE = next(
    (c for c in (os.path.join(sys.prefix, "bin", "motte"), os.path.join(os.path.dirname(sys.executable), "motte"))
     if os.access(c, os.X_OK)),
    shutil.which("motte") or "motte",
)  # fmt: skip

FUZZ_SECONDS = int(os.environ.get("MOTTE_FUZZ_SECONDS", "50"))
FUZZ_SEED = int(os.environ.get("MOTTE_FUZZ_SEED", "1"), 0)
FUZZ_WORKERS = int(os.environ.get("MOTTE_FUZZ_WORKERS", "4"))
FUZZ_USERS = os.environ.get("MOTTE_FUZZ_USERS", ",root").split(",")

PROBE_LIMIT_S = 1.0  # a trapped call of the prober must be answered within this
GAP_LIMIT_S = 2.0  # the host must see a prober answer at least this often (the prober sleeps 50 ms between)
STALL_S = 10.0  # no answer for this long: the library OS is deadlocked, the run is ended
FD_LIMIT = 256
RSS_LIMIT_MB = 100
THREAD_LIMIT = 64
# Growth without bound shows before a limit is reached: from the second
# fifth of the run to the last, the lowest fd and thread counts may not rise
# by more than this. (The lowest: the count saws up and down as the library
# OS forgets ended processes every 64 new ones; a leak raises its floor.)
FD_GROWTH_LIMIT = 64
THREAD_GROWTH_LIMIT = 16
SAMPLE_S = 0.25
MIN_CALLS_PER_S = 500
MIN_DISTINCT = 300  # of the numbers 0..469 (the fuzzer skips 5 of them)


# --------------------------------------------------------------------------- building


def compile_fuzzer(outdir: Path) -> Path:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler")
    out = outdir / "fuzz"
    p = subprocess.run(
        [gcc, "-O1", "-Wall", "-Wextra", "-Wno-unused-result", "-fno-stack-protector", "-o", str(out), str(FUZZ_SRC)],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, f"fuzz.c does not compile:\n{p.stdout}{p.stderr}"
    return out


# --------------------------------------------------------------------------- the host's state

# Directories where other activity on the machine (other test sessions, the
# developer) may add or remove entries while the fuzzer runs: there, only an
# entry the fuzzer could have made (one of its names, a mutation of one, or
# owned by the sandbox user) counts. / and /etc are strict.
VOLATILE_TOPS = ("/tmp", "/var/tmp", "/root", "/dev/shm", "/opt", "/home", "/work", "/work/main", "/usr/local")
WATCHED_TOPS = ("/", "/root", "/tmp", "/var/tmp", "/opt", "/home", "/work", "/work/main", "/usr/local", "/dev/shm")
FUZZER_NAMES = re.compile(r"^(a|x|s|d2|mq1)$|^(f1|f2|d1|fifo|sock|link|loop1|loop2|proclink|hard|w\d)|fuzz")


def _entry(st: os.stat_result) -> tuple:
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def host_snapshot() -> dict[str, tuple]:
    snap: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk("/etc"):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            with contextlib.suppress(OSError):
                st = os.lstat(p)
                snap[p] = (*_entry(st), st.st_size, st.st_mtime_ns)
    for p in ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/hostname", "/etc/hosts"):
        with contextlib.suppress(OSError), open(p, "rb") as f:
            snap["sha:" + p] = (hashlib.sha256(f.read()).hexdigest(),)
    for top in WATCHED_TOPS:
        with contextlib.suppress(OSError):
            for e in os.scandir(top):
                with contextlib.suppress(OSError):
                    snap[f"{top}|{e.name}"] = _entry(e.stat(follow_symlinks=False))
    with open("/proc/self/mountinfo") as f:
        snap["mountinfo"] = tuple(sorted(line.split(" ", 1)[1] for line in f))
    snap["hostname"] = (socket.gethostname(),)
    return snap


def _fuzzer_could_make(key: str, value: tuple | None) -> bool:
    name = key.partition("|")[2]
    return bool(FUZZER_NAMES.search(name)) or (value is not None and len(value) > 2 and value[2] == 1000)


def host_changes(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    out = []
    for key in sorted(before.keys() | after.keys()):
        b, a = before.get(key), after.get(key)
        if b == a:
            continue
        top = key.partition("|")[0]
        if top in VOLATILE_TOPS and not _fuzzer_could_make(key, a or b):
            continue
        out.append(f"{key}: {b} -> {a}")
    return out


# The host's device nodes the sandbox's /dev passes through (bind mounts of
# the host's own inodes), and two it must not reach: their modes, owners and
# (for the first five) modification times must not change. A change is put
# back at once by `DevGuard`, so that a run cannot leave the host broken
# (a /dev/null of mode 000 breaks every unprivileged program on it).
DEV_NODES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx")
DEV_TIMED = DEV_NODES[:5]


class DevGuard:
    def __init__(self) -> None:
        self.orig: dict[str, os.stat_result] = {}
        for p in DEV_NODES:
            with contextlib.suppress(OSError):
                self.orig[p] = os.stat(p)
        self.changes: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _state(self, p: str, st: os.stat_result) -> tuple:
        t = (st.st_mtime_ns,) if p in DEV_TIMED else ()
        return (oct(st.st_mode), st.st_uid, st.st_gid, *t)

    def check(self) -> None:
        """Record and undo any change to the guarded nodes."""
        for p, o in self.orig.items():
            try:
                now = os.stat(p)
            except OSError as e:
                self.changes.append(f"{p}: {e}")
                continue
            if self._state(p, now) == self._state(p, o):
                continue
            if len(self.changes) < 50:
                when = time.strftime("%H:%M:%S")
                self.changes.append(f"{when} {p}: {self._state(p, o)} -> {self._state(p, now)} (put back)")
            with contextlib.suppress(OSError):
                os.chmod(p, stat.S_IMODE(o.st_mode))
                os.chown(p, o.st_uid, o.st_gid)
                os.utime(p, ns=(o.st_atime_ns, o.st_mtime_ns))

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.check()

    def __enter__(self) -> DevGuard:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.check()


def tree_state(root: Path) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [""] + dirnames + filenames:
            p = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(p)
            digest = ""
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            out[os.path.relpath(p, root)] = (*_entry(st), st.st_size, st.st_mtime_ns, digest)
    return out


# --------------------------------------------------------------------------- host processes


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _pids_matching(ns: str | None, tag: str) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        try:
            if ns is not None and os.readlink(f"/proc/{d}/ns/pid") == ns and _alive(pid):
                out.append(pid)
                continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if tag.encode() in f.read() and _alive(pid):
                    out.append(pid)
        except OSError:
            continue
    return out


def _thread_stacks(pid: int) -> str:
    """Where motte's threads are blocked (for a deadlock report)."""
    lines = []
    with contextlib.suppress(OSError):
        for t in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
            base = f"/proc/{pid}/task/{t}"
            try:
                with open(f"{base}/comm") as f:
                    comm = f.read().strip()
                with open(f"{base}/wchan") as f:
                    wchan = f.read().strip()
            except OSError:
                continue
            lines.append(f"thread {t} {comm}: {wchan}")
            with contextlib.suppress(OSError), open(f"{base}/stack") as f:
                lines += ["    " + ln for ln in f.read().splitlines()[:8]]
    with contextlib.suppress(OSError):
        fds = {}
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                fds[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        interesting = [f"fd {k} -> {v}" for k, v in sorted(fds.items()) if "/mem" not in v and "pidfd" not in v]
        lines.append(f"{len(fds)} fds; not /proc/N/mem or pidfds: " + "; ".join(interesting[:40]))
    return "\n".join(lines)


def _sandbox_calls(pidns: str) -> str:
    """The call each process of the sandbox is in (as /proc/PID/syscall has
    it), with the arguments that point at strings read from its memory and
    the fds it names: what the library OS was serving when it stopped."""
    from motte.kernel.sysnums import NAMES_X86_64

    lines = []
    for pid in sorted(_pids_matching(pidns, "\0no-tag\0")):
        try:
            with open(f"/proc/{pid}/syscall") as f:
                sc = f.read().split()
            with open(f"/proc/{pid}/wchan") as f:
                wchan = f.read().strip()
            with open(f"/proc/{pid}/status") as f:
                nspid = next(ln.split()[-1] for ln in f if ln.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if not sc or not sc[0].lstrip("-").isdigit():
            lines.append(f"pid {nspid} (host {pid}): {' '.join(sc)} [{wchan}]")
            continue
        nr = int(sc[0])
        args = [int(a, 16) for a in sc[1:7]]
        shown = []
        for a in args:
            text = hex(a)
            if 0x10000 <= a < 1 << 47:
                with contextlib.suppress(OSError), open(f"/proc/{pid}/mem", "rb") as m:
                    m.seek(a)
                    raw = m.read(200).split(b"\0")[0]
                    if raw and all(32 <= c < 127 for c in raw[:40]):
                        text += f"={raw[:120]!r}"
            elif 3 <= a < 1024:
                with contextlib.suppress(OSError):
                    text += f"(fd->{os.readlink(f'/proc/{pid}/fd/{a}')})"
            shown.append(text)
        name = NAMES_X86_64.get(nr, str(nr))
        lines.append(f"pid {nspid} (host {pid}): {name}({', '.join(shown)}) [{wchan}]")
    return "\n".join(lines)


# --------------------------------------------------------------------------- tracebacks


@dataclasses.dataclass
class ErrorGroup:
    exc: str  # the exception's type
    where: str  # the innermost frame in motte: file:line function
    handlers: collections.Counter = dataclasses.field(default_factory=collections.Counter)  # sys_* -> count
    count: int = 0
    example: str = ""  # one whole traceback
    message: str = ""  # its last line

    @property
    def handler(self) -> str:
        return ", ".join(h for h, _ in self.handlers.most_common())


_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')


def parse_tracebacks(text: str) -> list[ErrorGroup]:
    """Group the tracebacks `--debug` prints (one per internal error) by
    exception type and innermost motte frame (one group: one defect, met
    through any number of handlers)."""
    groups: dict[tuple[str, str], ErrorGroup] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("Traceback (most recent call last):"):
            i += 1
            continue
        start = i
        frames: list[tuple[str, str, str]] = []
        i += 1
        while i < len(lines) and (lines[i].startswith(" ") or not lines[i]):
            m = _FRAME.match(lines[i])
            if m:
                frames.append((m["file"], m["line"], m["func"]))
            i += 1
        if i >= len(lines):
            break
        last = lines[i]
        block = "\n".join(lines[start : i + 1])
        i += 1
        # An exception raised while handling another: the context comes first.
        if i + 1 < len(lines) and lines[i + 1].startswith("During handling of the above exception"):
            continue
        if i < len(lines) and lines[i].startswith("During handling of the above exception"):
            continue
        exc = last.split(":", 1)[0].strip()
        motte_frames = [f for f in frames if "/motte/" in f[0]]
        inner = motte_frames[-1] if motte_frames else (frames[-1] if frames else ("?", "0", "?"))
        where = f"{inner[0].split('/src/')[-1]}:{inner[1]} {inner[2]}"
        handler = next((f[2] for f in frames if f[2].startswith("sys_")), "?")
        key = (exc, where)
        g = groups.get(key)
        if g is None:
            g = groups[key] = ErrorGroup(exc, where, example=block[-4000:], message=last[:300])
        g.count += 1
        g.handlers[handler] += 1
    return sorted(groups.values(), key=lambda g: -g.count)


# --------------------------------------------------------------------------- one run


@dataclasses.dataclass
class Sample:
    t: float
    fds: int
    rss_kb: int
    threads: int


@dataclasses.dataclass
class FuzzResult:
    user: str
    seconds: int
    seed: int
    returncode: int | None = None
    killed: str = ""  # why the harness had to kill motte, if it did
    wall_s: float = 0.0
    summary: dict[str, str] = dataclasses.field(default_factory=dict)
    reached: list[int] = dataclasses.field(default_factory=list)
    probes: list[tuple[float, int, int]] = dataclasses.field(default_factory=list)  # host time, latency us, ok
    samples: list[Sample] = dataclasses.field(default_factory=list)
    died: list[str] = dataclasses.field(default_factory=list)
    stuck: list[str] = dataclasses.field(default_factory=list)
    spoilt: list[str] = dataclasses.field(default_factory=list)  # workers that overwrote their own shared page
    errors: list[ErrorGroup] = dataclasses.field(default_factory=list)
    internal_error_lines: list[str] = dataclasses.field(default_factory=list)
    unsupported: list[str] = dataclasses.field(default_factory=list)
    motte_failure: list[str] = dataclasses.field(default_factory=list)
    deadlock: str = ""  # motte's threads when the prober stalled
    leftovers: list[int] = dataclasses.field(default_factory=list)
    cgroup_left: str = ""
    pidns: str = ""
    stdout_path: str = ""
    stderr_path: str = ""
    stderr_mode: int = 0
    last_status: tuple[int, int, int] = (0, 0, 0)  # the fuzzer's last STATUS: seconds, calls, distinct
    started: float = 0.0

    # -- derived --------------------------------------------------------------------
    def max_probe_latency_s(self) -> float:
        return max((lat for _, lat, _ in self.probes), default=0) / 1e6

    def max_probe_gap_s(self, end: float | None = None) -> float:
        """The longest the host went without a prober answer (from the
        first answer to the fuzzer's end)."""
        if not self.probes:
            return float("inf")
        times = [t for t, _, _ in self.probes]
        if end is not None:
            times.append(end)
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)

    def max(self, attr: str) -> int:
        return max((getattr(s, attr) for s in self.samples), default=0)

    def calls(self) -> int:
        """Calls issued (from the summary, or the last STATUS line if the
        fuzzer was ended before its summary)."""
        return int(self.summary.get("calls", self.last_status[1]))

    def distinct_known(self) -> int:
        return sum(1 for n in self.reached if n < 470)

    def where(self) -> str:
        return f"(user {self.user or 'default'}, seed {self.seed}; output in {self.stdout_path} and {self.stderr_path})"


class FuzzRun:
    """One `motte run --debug ... -- fuzz` watched from the host."""

    def __init__(
        self,
        fuzz_bin: Path,
        workdir: Path,
        *,
        seconds: int,
        seed: int,
        workers: int = 4,
        user: str = "",
        no_fifos: bool = False,
        trace: Path | None = None,
        extra_opts: Iterable[str] = (),
    ) -> None:
        self.bin_dir = fuzz_bin.parent
        self.workdir = workdir
        self.tag = f"motte-fuzz-{secrets.token_hex(6)}"
        self.scratch = workdir / "scratch"
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.scratch.chmod(0o755)
        self.result = FuzzResult(user, seconds, seed)
        self.result.stdout_path = str(workdir / "stdout.txt")
        self.result.stderr_path = str(workdir / "stderr.txt")
        cmd = [MOTTE, "run", "--debug", "--timeout", str(seconds + 60)]
        cmd += ["--mount", f"{self.bin_dir}:/t:ro", "--mount", f"{self.scratch}:/scratch:rw"]
        if user:
            cmd += ["--user", user]
        if trace is not None:
            cmd += ["--trace", str(trace)]
        cmd += list(extra_opts)
        cmd += ["--", "/t/fuzz", "--seconds", str(seconds), "--seed", str(seed), "--workers", str(workers)]
        cmd += ["--tag", self.tag]
        if no_fifos:
            cmd += ["--no-fifos", "1"]
        self.cmd = cmd
        self.proc: subprocess.Popen | None = None
        self._last_probe = 0.0
        self._keeper = 0
        self._cgroup = ""

    # -- running ------------------------------------------------------------------------
    def start(self) -> None:
        self.result.started = time.monotonic()
        self._stderr = open(self.result.stderr_path, "wb")  # noqa: SIM115 - closed in wait()
        self.result.stderr_mode = stat.S_IMODE(os.fstat(self._stderr.fileno()).st_mode)
        self._stdout = open(self.result.stdout_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True
        )
        self._last_probe = time.monotonic()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        threading.Thread(target=self._watch, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        r = self.result
        for raw in self.proc.stdout:
            now = time.monotonic()
            self._stdout.write(raw)
            parts = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            if parts[0] == "PROBE" and len(parts) == 4:
                r.probes.append((now, int(parts[2]), int(parts[3])))
                self._last_probe = now
            elif parts[0] == "FUZZ-SUMMARY":
                r.summary = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
            elif parts[0] == "FUZZ-REACHED" and len(parts) > 1:
                r.reached = [int(x) for x in parts[1].split(",") if x]
            elif parts[0] == "STATUS" and len(parts) == 4:
                r.last_status = (int(parts[1]), int(parts[2]), int(parts[3]))
            elif parts[0] == "DIED":
                r.died.append("\t".join(parts[1:]))
            elif parts[0] == "STUCK":
                r.stuck.append("\t".join(parts[1:]))
            elif parts[0] == "SPOILT":
                r.spoilt.append("\t".join(parts[1:]))
        self._stdout.flush()

    def _find_sandbox(self) -> None:
        """motte -> keeper -> pid 1: the sandbox's pid namespace and cgroup."""
        assert self.proc is not None
        for keeper in _children(self.proc.pid):
            for pid1 in _children(keeper):
                with contextlib.suppress(OSError):
                    self.result.pidns = os.readlink(f"/proc/{pid1}/ns/pid")
                    self._keeper = keeper
                    with open(f"/proc/{pid1}/cgroup") as f:
                        for line in f:
                            path = line.rstrip("\n").split(":", 2)[2]
                            if "/motte-" in path:
                                self._cgroup = path

    def _watch(self) -> None:
        """Samples motte's fds, RSS and threads; ends a deadlocked run."""
        assert self.proc is not None
        r = self.result
        pid = self.proc.pid
        hard_end = r.started + r.seconds + 90
        while self.proc.poll() is None:
            now = time.monotonic()
            if not r.pidns and r.probes:
                self._find_sandbox()
            try:
                nfd = len(os.listdir(f"/proc/{pid}/fd"))
                with open(f"/proc/{pid}/status") as f:
                    st = dict(line.split(":", 1) for line in f if ":" in line)
                r.samples.append(Sample(now - r.started, nfd, int(st["VmRSS"].split()[0]), int(st["Threads"])))
            except (OSError, KeyError, ValueError):
                pass
            fuzzing = now < r.started + r.seconds - 1 and not r.summary
            if fuzzing and now - self._last_probe > STALL_S and not r.deadlock:
                r.deadlock = _thread_stacks(pid)
                if r.pidns:
                    r.deadlock += "\nthe sandbox's processes (a call in seccomp_do_user_notification waits for "
                    r.deadlock += "the library OS):\n" + _sandbox_calls(r.pidns)
                self._kill(f"the prober got no answer for {STALL_S:.0f} s: the library OS is deadlocked")
            if now > hard_end:
                self._kill(f"motte did not end within {r.seconds + 90} s")
            time.sleep(SAMPLE_S)

    def _kill(self, why: str) -> None:
        assert self.proc is not None
        if not self.result.killed:
            self.result.killed = why
        with contextlib.suppress(OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def wait(self) -> FuzzResult:
        assert self.proc is not None
        r = self.result
        try:
            r.returncode = self.proc.wait(timeout=r.seconds + 120)
        except subprocess.TimeoutExpired:
            self._kill("motte did not end")
            r.returncode = self.proc.wait()
        r.wall_s = time.monotonic() - r.started
        self._reader.join(timeout=10)
        self._stderr.close()
        self._stdout.close()
        # Nothing may survive motte: give the kernel a moment to reap.
        deadline = time.monotonic() + 5
        while True:
            r.leftovers = _pids_matching(r.pidns or None, self.tag)
            if self._keeper and _alive(self._keeper):
                r.leftovers.append(self._keeper)
            if not r.leftovers or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if self._cgroup:
            for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory"):
                if os.path.exists(base + self._cgroup):
                    if r.killed:  # motte had no chance to remove it: clean up after it
                        with contextlib.suppress(OSError):
                            os.rmdir(base + self._cgroup)
                    else:
                        r.cgroup_left = base + self._cgroup
        err = Path(r.stderr_path).read_text(errors="replace")
        r.errors = parse_tracebacks(err)
        r.internal_error_lines = [ln[:300] for ln in err.splitlines() if "internal error in" in ln]
        r.unsupported = sorted({ln.split("unsupported: ", 1)[1] for ln in err.splitlines() if "unsupported: " in ln})
        r.motte_failure = [
            ln for ln in err.splitlines() if ln.startswith(("motte: internal error:", "Exception in thread"))
        ]
        return r


def stdio_changes(results: list[FuzzResult]) -> list[str]:
    """motte's stderr is a host file (in the test's tmp dir) the sandbox holds
    as fd 2: its mode must be as it was made (0644 under umask 022)."""
    out = []
    for r in results:
        with contextlib.suppress(OSError):
            mode = stat.S_IMODE(os.stat(r.stderr_path).st_mode)
            if mode != r.stderr_mode:
                out.append(
                    f"the host file the sandbox got as stderr ({r.stderr_path}): mode {r.stderr_mode:o} -> {mode:o}"
                )
    return out


def run_all(runs: list[FuzzRun]) -> list[FuzzResult]:
    for run in runs:
        run.start()
    return [run.wait() for run in runs]


# --------------------------------------------------------------------------- judging


def problems(r: FuzzResult) -> dict[str, list[str]]:
    """Every check, with what failed (an empty list: it holds)."""
    end = r.started + r.seconds if r.summary else None
    out: dict[str, list[str]] = collections.defaultdict(list)
    # 1. no internal error
    for i, g in enumerate(r.errors):
        tb = "\n".join(g.example.splitlines()[-14:]) if i < 12 else ""
        out["internal_errors"].append(f"{g.count}x {g.exc} in {g.where} (handlers {g.handler}): {g.message}\n{tb}")
    if r.internal_error_lines and not r.errors:
        out["internal_errors"] += r.internal_error_lines[:20]
    out["internal_errors"] += r.motte_failure[:10]
    # 2. no deadlock
    if r.deadlock:
        out["deadlock"].append(f"{r.killed}\nmotte's threads:\n{r.deadlock}")
    if not r.probes:
        out["deadlock"].append("the prober never answered")
    else:
        lat = r.max_probe_latency_s()
        if lat > PROBE_LIMIT_S:
            slow = [f"{t - r.started:.1f}s: {us / 1e6:.2f}s" for t, us, _ in r.probes if us > PROBE_LIMIT_S * 1e6]
            out["deadlock"].append(
                f"a trapped call of the prober took {lat:.2f} s (limit {PROBE_LIMIT_S}): {slow[:10]}"
            )
        gap = r.max_probe_gap_s(end)
        if gap > GAP_LIMIT_S:
            out["deadlock"].append(f"the host saw no prober answer for {gap:.2f} s (limit {GAP_LIMIT_S})")
    # 3. bounded fds, memory, threads
    if r.max("fds") > FD_LIMIT:
        out["leaks"].append(f"motte held {r.max('fds')} fds (limit {FD_LIMIT}); {_trend(r, 'fds')}")
    if r.max("rss_kb") > RSS_LIMIT_MB * 1024:
        out["leaks"].append(f"motte's RSS reached {r.max('rss_kb') // 1024} MB (limit {RSS_LIMIT_MB}); "
                            f"{_trend(r, 'rss_kb')}")  # fmt: skip
    if r.max("threads") > THREAD_LIMIT:
        out["leaks"].append(f"motte ran {r.max('threads')} threads (limit {THREAD_LIMIT}); {_trend(r, 'threads')}")
    for attr, limit in (("fds", FD_GROWTH_LIMIT), ("threads", THREAD_GROWTH_LIMIT)):
        grew = _growth(r, attr)
        if grew > limit:
            out["leaks"].append(
                f"motte's {attr} keep growing: +{grew} from the second fifth of the run to the last (limit "
                f"{limit}); {_trend(r, attr)}"
            )
    # 5. exit, nothing left behind
    if r.killed:
        out["exit"].append(f"the harness had to kill motte: {r.killed}")
    elif r.returncode != 0:
        out["exit"].append(f"motte exited {r.returncode}")
    if r.leftovers:
        out["exit"].append(f"processes left behind: {r.leftovers}")
    if r.cgroup_left:
        out["exit"].append(f"cgroup left behind: {r.cgroup_left}")
    # 6. real work
    if not r.summary:
        out["work"].append("the fuzzer printed no summary")
    else:
        if r.calls() < MIN_CALLS_PER_S * r.seconds:
            out["work"].append(f"only {r.calls()} calls in {r.seconds} s")
        if r.distinct_known() < MIN_DISTINCT:
            out["work"].append(f"only {r.distinct_known()} distinct numbers reached")
    return out


def _growth(r: FuzzResult, attr: str) -> int:
    """The lowest of the last fifth of the fuzzing time's samples minus the
    lowest of the second fifth (the first is start-up)."""
    s = [getattr(x, attr) for x in r.samples if x.t <= r.seconds]
    if len(s) < 20:
        return 0
    n = len(s)
    return min(s[4 * n // 5 :]) - min(s[n // 5 : 2 * n // 5])


def _trend(r: FuzzResult, attr: str) -> str:
    s = r.samples
    if not s:
        return "no samples"
    picks = [s[int(i * (len(s) - 1) / 5)] for i in range(6)]
    return "over the run: " + ", ".join(f"{p.t:.0f}s={getattr(p, attr)}" for p in picks)


# --------------------------------------------------------------------------- the test


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory):
    if os.geteuid() != 0:
        pytest.skip("the fuzz test checks host directories such as /root (run as root, as CI does)")
    bins = tmp_path_factory.mktemp("fuzz-bin")
    bins.chmod(0o755)
    fuzz_bin = compile_fuzzer(bins)
    runs = [
        FuzzRun(
            fuzz_bin,
            tmp_path_factory.mktemp(f"fuzz-{user or 'user'}"),
            seconds=FUZZ_SECONDS,
            seed=FUZZ_SEED,
            workers=FUZZ_WORKERS,
            user=user,
        )
        for user in FUZZ_USERS
    ]
    bins_before = tree_state(bins)
    before = host_snapshot()
    with DevGuard() as guard:
        results = run_all(runs)
    after = host_snapshot()
    changes = host_changes(before, after) + [f"host device node changed: {c}" for c in guard.changes]
    if tree_state(bins) != bins_before:
        changes.append(f"the read-only mount {bins} changed")
    changes += stdio_changes(results)
    for r in results:
        print(summary_line(r))
    return Fuzzed(results, changes)


@dataclasses.dataclass
class Fuzzed:
    results: list[FuzzResult]
    changes: list[str]

    def __repr__(self) -> str:  # pytest shows the fixture's value on failure
        return "; ".join(summary_line(r) for r in self.results)


def summary_line(r: FuzzResult) -> str:
    if not r.summary:
        return (
            f"fuzz {r.where()}: ended before its summary ({r.killed or f'motte exited {r.returncode}'}); at its last "
            f"status, {r.last_status[0]} s in: {r.last_status[1]} calls, {r.last_status[2]} distinct numbers; prober "
            f"max {r.max_probe_latency_s():.3f} s over {len(r.probes)} probes; motte max {r.max('fds')} fds, "
            f"{r.max('rss_kb') // 1024} MB, {r.max('threads')} threads; {sum(g.count for g in r.errors)} internal "
            f"errors in {len(r.errors)} places"
        )
    return (
        f"fuzz {r.where()}: {r.calls()} calls, {r.distinct_known()} distinct numbers (+{len(r.reached) - r.distinct_known()} "
        f"out of range), workers started {r.summary.get('started')}, crashed {r.summary.get('crashed')}, stuck "
        f"{r.summary.get('stuck')}, spoilt {r.summary.get('spoilt')}; prober max {r.max_probe_latency_s():.3f} s over {len(r.probes)} probes; motte max "
        f"{r.max('fds')} fds, {r.max('rss_kb') // 1024} MB, {r.max('threads')} threads; "
        f"{sum(g.count for g in r.errors)} internal errors in {len(r.errors)} places"
    )


def _check(fuzzed: Fuzzed, name: str) -> None:
    failed = [(r, problems(r)[name]) for r in fuzzed.results]
    msgs = [f"{r.where()}:\n" + "\n".join(p) for r, p in failed if p]
    assert not msgs, "\n\n".join(msgs)


def test_the_library_os_raises_no_internal_error(fuzzed: Fuzzed) -> None:
    _check(fuzzed, "internal_errors")


def test_the_library_os_keeps_answering_within_a_second(fuzzed: Fuzzed) -> None:
    _check(fuzzed, "deadlock")


def test_motte_holds_bounded_fds_memory_and_threads(fuzzed: Fuzzed) -> None:
    _check(fuzzed, "leaks")


def test_the_host_is_unchanged(fuzzed: Fuzzed) -> None:
    assert not fuzzed.changes, f"the host changed: {fuzzed.changes[:20]}"


def test_motte_exits_and_leaves_nothing_behind(fuzzed: Fuzzed) -> None:
    _check(fuzzed, "exit")


def test_the_fuzzer_did_real_work(fuzzed: Fuzzed) -> None:
    _check(fuzzed, "work")
