"""The picoprocess ABI: the closed list of system calls a picoprocess may make
directly to the host kernel.

This table is the single source of truth. The seccomp filter
(`picoprocess.filter`) and docs/abi.md (`motte abi --markdown`) are generated
from it. A call that is not here is trapped and serviced by the library OS.

Each entry names the call, an optional argument constraint (a call whose
arguments fall outside the constraint is trapped, not allowed), the family it
belongs to and why it is safe: it acts only on the caller's own address space,
threads, signal state or on streams (fds) the caller already holds, and the
kernel's answer reveals nothing of the host beyond what the manifest grants.
"""

from __future__ import annotations

from dataclasses import dataclass

from motte.kernel.libc import NAMESPACE_FLAGS


@dataclass(frozen=True)
class ArgIn:
    """Allowed only when the low 32 bits of argument `index` are one of `values`
    (the kernel reads these arguments as 32-bit ints)."""

    index: int
    values: tuple[int, ...]
    names: tuple[str, ...]

    def describe(self) -> str:
        return f"arg{self.index} in {{{', '.join(self.names)}}}"


@dataclass(frozen=True)
class FlagsRequire:
    """Allowed only when argument `index` (64-bit) has every bit of `must` set,
    none of `forbid` set and a zero upper half."""

    index: int
    must: int
    forbid: int
    text: str

    def describe(self) -> str:
        return self.text


Constraint = ArgIn | FlagsRequire | None


@dataclass(frozen=True)
class AbiCall:
    name: str
    family: str
    why: str
    constraint: Constraint = None


# ioctl requests on held fds that only touch the fd's own object.
_TTY_IOCTLS = {
    "TCGETS": 0x5401,
    "TCSETS": 0x5402,
    "TCSETSW": 0x5403,
    "TCSETSF": 0x5404,
    "TIOCGPGRP": 0x540F,
    "TIOCGWINSZ": 0x5413,
    "TIOCSWINSZ": 0x5414,
    "FIONREAD": 0x541B,
    "FIONBIO": 0x5421,
    "FIONCLEX": 0x5450,
    "FIOCLEX": 0x5451,
    "FIOASYNC": 0x5452,
}

# fcntl commands that act on the held fd only.
_FCNTL_CMDS = {
    "F_DUPFD": 0,
    "F_GETFD": 1,
    "F_SETFD": 2,
    "F_GETFL": 3,
    "F_SETFL": 4,
    "F_GETLK": 5,
    "F_SETLK": 6,
    "F_SETLKW": 7,
    "F_OFD_GETLK": 36,
    "F_OFD_SETLK": 37,
    "F_OFD_SETLKW": 38,
    "F_DUPFD_CLOEXEC": 1030,
    "F_GETPIPE_SZ": 1032,
    "F_ADD_SEALS": 1033,
    "F_GET_SEALS": 1034,
}

_ARCH_PRCTL = {"ARCH_SET_FS": 0x1002, "ARCH_GET_FS": 0x1003}

MEM = "memory"
THR = "threads"
SIG = "signals"
TIME = "time"
IO = "streams"
POLL = "polling"
SOCK = "held sockets"

ABI: tuple[AbiCall, ...] = (
    # Memory: the caller's own address space. File mappings need an fd the
    # caller already holds, and the library OS decided what that fd is.
    AbiCall("mmap", MEM, "maps memory or a held fd into the caller's own address space"),
    AbiCall("munmap", MEM, "unmaps the caller's own memory"),
    AbiCall("mprotect", MEM, "changes protection of the caller's own pages"),
    AbiCall("mremap", MEM, "moves or resizes the caller's own mappings"),
    AbiCall("madvise", MEM, "advice on the caller's own pages"),
    AbiCall("brk", MEM, "grows the caller's own heap; bounded by RLIMIT_DATA/AS"),
    # Threads and processes: clone is native unless it asks for a namespace
    # (then the library OS refuses it). A fork is native too: trapped, it
    # could be cut short by a signal arriving before the library OS took the
    # call (EINTR), which a real fork never is; the pid namespace and the
    # pids limit confine it, and the library OS learns of the child at its
    # first trapped call.
    AbiCall(
        "clone",
        THR,
        "creates a thread or a child process in the caller's own namespaces",
        FlagsRequire(0, 0, NAMESPACE_FLAGS, "no CLONE_NEW* flag, upper half zero"),
    ),
    AbiCall("exit", THR, "ends the calling thread"),
    AbiCall("exit_group", THR, "ends the calling process"),
    AbiCall("set_tid_address", THR, "thread bookkeeping in the caller's memory"),
    AbiCall("set_robust_list", THR, "thread bookkeeping in the caller's memory"),
    AbiCall("rseq", THR, "restartable sequences in the caller's memory"),
    AbiCall("futex", THR, "waits and wakes on the caller's own memory"),
    AbiCall("sched_yield", THR, "gives up the CPU"),
    AbiCall("getpid", THR, "the pid namespace makes the answer the sandbox pid"),
    AbiCall("gettid", THR, "the pid namespace makes the answer the sandbox tid"),
    AbiCall(
        "arch_prctl",
        THR,
        "sets or reads the caller's own TLS base",
        ArgIn(0, tuple(_ARCH_PRCTL.values()), tuple(_ARCH_PRCTL)),
    ),
    # Signals on itself.
    AbiCall("rt_sigaction", SIG, "the caller's own signal dispositions"),
    AbiCall("rt_sigprocmask", SIG, "the caller's own signal mask"),
    AbiCall("rt_sigreturn", SIG, "returns from the caller's own signal handler"),
    AbiCall("sigaltstack", SIG, "the caller's own signal stack"),
    AbiCall("rt_sigsuspend", SIG, "waits for a signal to the caller"),
    AbiCall("restart_syscall", SIG, "kernel-internal restart of an interrupted allowed call"),
    # Time (mostly served by the vDSO without entering the kernel).
    AbiCall("clock_gettime", TIME, "reads a clock"),
    AbiCall("clock_nanosleep", TIME, "sleeps"),
    AbiCall("nanosleep", TIME, "sleeps"),
    AbiCall("gettimeofday", TIME, "reads the clock"),
    AbiCall("getrandom", TIME, "kernel entropy, no host state"),
    # I/O on streams the caller already holds. These are the data path and
    # run at native speed; what each fd refers to was decided when the
    # library OS opened it.
    AbiCall("read", IO, "reads a held fd"),
    AbiCall("write", IO, "writes a held fd"),
    AbiCall("readv", IO, "reads a held fd"),
    AbiCall("writev", IO, "writes a held fd"),
    AbiCall("pread64", IO, "reads a held fd at an offset"),
    AbiCall("pwrite64", IO, "writes a held fd at an offset"),
    AbiCall("lseek", IO, "moves a held fd's offset"),
    AbiCall("close", IO, "drops a held fd"),
    AbiCall("dup", IO, "copies a held fd within the caller"),
    AbiCall("dup2", IO, "copies a held fd within the caller"),
    AbiCall("dup3", IO, "copies a held fd within the caller"),
    AbiCall("pipe2", IO, "a new anonymous pipe, held only by the caller"),
    AbiCall(
        "fcntl",
        IO,
        "fd flags, duplication and record locks on a held fd",
        ArgIn(1, tuple(_FCNTL_CMDS.values()), tuple(_FCNTL_CMDS)),
    ),
    AbiCall(
        "ioctl",
        IO,
        "terminal and non-blocking controls on a held fd",
        ArgIn(1, tuple(_TTY_IOCTLS.values()), tuple(_TTY_IOCTLS)),
    ),
    AbiCall("getdents64", IO, "lists a held directory fd; the view's kernel tree holds only the sandbox's view"),
    AbiCall("ftruncate", IO, "resizes a file held open for writing"),
    # Polling on held fds.
    AbiCall("poll", POLL, "waits on held fds"),
    AbiCall("ppoll", POLL, "waits on held fds"),
    AbiCall("pselect6", POLL, "waits on held fds"),
    AbiCall("epoll_ctl", POLL, "registers a held fd with a held epoll"),
    AbiCall("epoll_wait", POLL, "waits on a held epoll"),
    AbiCall("epoll_pwait", POLL, "waits on a held epoll"),
    # Sockets the caller already holds (creating, binding and connecting them
    # by name goes through the library OS).
    AbiCall("sendto", SOCK, "sends on a held socket; addresses stay inside the sandbox's network namespace"),
    AbiCall("recvfrom", SOCK, "receives on a held socket"),
    AbiCall("sendmsg", SOCK, "sends on a held socket; passed fds are the caller's own"),
    AbiCall("recvmsg", SOCK, "receives on a held socket"),
    AbiCall("accept4", SOCK, "accepts on a held listening socket"),
)


def abi_by_name() -> dict[str, AbiCall]:
    return {c.name: c for c in ABI}
