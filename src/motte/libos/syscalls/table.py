"""The library OS's system-call table: number -> handler, support level and
note. Data, not code: docs/abi.md's second half is generated from it.

Support levels:
  full         implemented by the library OS
  checked      checked by the library OS (arguments that are plain values),
               then run by the kernel inside the sandbox's own namespaces and
               root, which confine its effect
  denied       would reach past the sandbox: EPERM (or the errno given)
  unsupported  ENOSYS, logged by name (also every number not listed)
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass

from motte.kernel.sysnums import NAMES_X86_64, SYSCALLS_X86_64
from motte.libos.call import CONTINUE
from motte.libos.syscalls import control, fs_modify, fs_open, fs_stat, identity, info, net, process, xattr

FULL, CHECKED, DENIED, UNSUPPORTED = "full", "checked", "denied", "unsupported"


@dataclass(frozen=True)
class Entry:
    name: str
    handler: Callable
    support: str
    note: str
    nargs: int
    argtypes: tuple[str, ...] = ()


def _nargs(fn: Callable) -> int:
    """How many raw arguments the handler takes after the call itself."""
    code = fn.__code__
    return 6 if code.co_flags & 0x04 else code.co_argcount - 1  # CO_VARARGS


def _passthrough(call, *args):  # noqa: ANN001, ANN002, ANN202 - table glue
    return CONTINUE


def _denied(code: int) -> Callable:
    def handler(call, *args):  # noqa: ANN001, ANN002, ANN202
        call.os.log_denial(NAMES_X86_64.get(call.nr, str(call.nr)))
        raise OSError(code, "denied")

    return handler


# name: (handler, note, argument types for --trace)
_FULL: dict[str, tuple[Callable, str, str]] = {
    "open": (fs_open.sys_open, "", "path oflags mode"),
    "openat": (fs_open.sys_openat, "", "fd path oflags mode"),
    "openat2": (
        fs_open.sys_openat2,
        "ENOSYS: its flags lie in memory the caller could rewrite; callers fall back to openat",
        "fd path ptr int",
    ),
    "creat": (fs_open.sys_creat, "", "path mode"),
    "stat": (fs_stat.sys_stat, "owners are virtual", "path ptr"),
    "lstat": (fs_stat.sys_lstat, "owners are virtual", "path ptr"),
    "fstat": (fs_stat.sys_fstat, "owners are virtual", "fd ptr"),
    "newfstatat": (fs_stat.sys_newfstatat, "owners are virtual", "fd path ptr hex"),
    "statx": (fs_stat.sys_statx, "every field is filled whatever the mask", "fd path hex hex ptr"),
    "access": (fs_stat.sys_access, "", "path int"),
    "faccessat": (fs_stat.sys_faccessat, "", "fd path int"),
    "faccessat2": (fs_stat.sys_faccessat2, "", "fd path int hex"),
    "readlink": (fs_stat.sys_readlink, "", "path ptr int"),
    "readlinkat": (fs_stat.sys_readlinkat, "", "fd path ptr int"),
    "getcwd": (fs_stat.sys_getcwd, "", "ptr int"),
    "mkdir": (fs_modify.sys_mkdir, "", "path mode"),
    "mkdirat": (fs_modify.sys_mkdirat, "", "fd path mode"),
    "unlink": (fs_modify.sys_unlink, "", "path"),
    "unlinkat": (fs_modify.sys_unlinkat, "", "fd path hex"),
    "rmdir": (fs_modify.sys_rmdir, "", "path"),
    "rename": (fs_modify.sys_rename, "", "path path"),
    "renameat": (fs_modify.sys_renameat, "", "fd path fd path"),
    "renameat2": (fs_modify.sys_renameat2, "", "fd path fd path hex"),
    "link": (fs_modify.sys_link, "", "path path"),
    "linkat": (fs_modify.sys_linkat, "", "fd path fd path hex"),
    "symlink": (fs_modify.sys_symlink, "", "path path"),
    "symlinkat": (fs_modify.sys_symlinkat, "", "path fd path"),
    "mknod": (fs_modify.sys_mknod, "FIFOs, sockets and regular files only", "path mode hex"),
    "mknodat": (fs_modify.sys_mknodat, "FIFOs, sockets and regular files only", "fd path mode hex"),
    "chmod": (fs_modify.sys_chmod, "", "path mode"),
    "fchmod": (fs_modify.sys_fchmod, "", "fd mode"),
    "fchmodat": (fs_modify.sys_fchmodat, "", "fd path mode"),
    "fchmodat2": (fs_modify.sys_fchmodat2, "", "fd path mode hex"),
    "chown": (fs_modify.sys_chown, "virtual: recorded by the library OS", "path int int"),
    "lchown": (fs_modify.sys_lchown, "virtual: recorded by the library OS", "path int int"),
    "fchown": (fs_modify.sys_fchown, "virtual: recorded by the library OS", "fd int int"),
    "fchownat": (fs_modify.sys_fchownat, "virtual: recorded by the library OS", "fd path int int hex"),
    "utimensat": (fs_modify.sys_utimensat, "", "fd path ptr hex"),
    "truncate": (fs_modify.sys_truncate, "", "path int"),
    "chdir": (fs_modify.sys_chdir, "checked here, applied by the kernel in the sandbox's root", "path"),
    "fchdir": (fs_modify.sys_fchdir, "", "fd"),
    "umask": (fs_modify.sys_umask, "", "mode"),
    "fork": (process.sys_fork, "limits.processes applies", ""),
    "vfork": (process.sys_vfork, "limits.processes applies", ""),
    "clone": (process.sys_clone, "forks only (threads are ABI); namespace flags: EPERM", "hex ptr ptr ptr ptr"),
    "clone3": (process.sys_clone3, "ENOSYS so that libc falls back to clone", "ptr int"),
    "execve": (process.sys_execve, "dynamic binaries and #! scripts", "path ptr ptr"),
    "execveat": (process.sys_execveat, "", "fd path ptr ptr hex"),
    "kill": (process.sys_kill, "pid 1 dies of unhandled signals as a normal process", "int sig"),
    "tgkill": (process.sys_tgkill, "", "int int sig"),
    "tkill": (process.sys_tkill, "", "int sig"),
    "getuid": (identity.sys_getuid, "", ""),
    "geteuid": (identity.sys_geteuid, "", ""),
    "getgid": (identity.sys_getgid, "", ""),
    "getegid": (identity.sys_getegid, "", ""),
    "getresuid": (identity.sys_getresuid, "", "ptr ptr ptr"),
    "getresgid": (identity.sys_getresgid, "", "ptr ptr ptr"),
    "getgroups": (identity.sys_getgroups, "", "int ptr"),
    "setgroups": (identity.sys_setgroups, "", "int ptr"),
    "setuid": (identity.sys_setuid, "virtual", "int"),
    "setgid": (identity.sys_setgid, "virtual", "int"),
    "setreuid": (identity.sys_setreuid, "virtual", "int int"),
    "setregid": (identity.sys_setregid, "virtual", "int int"),
    "setresuid": (identity.sys_setresuid, "virtual", "int int int"),
    "setresgid": (identity.sys_setresgid, "virtual", "int int int"),
    "setfsuid": (identity.sys_setfsuid, "virtual", "int"),
    "setfsgid": (identity.sys_setfsgid, "virtual", "int"),
    "fsetxattr": (xattr.sys_fsetxattr, "only on files of the sandbox's view; no POSIX ACLs", "fd str ptr int hex"),
    "fremovexattr": (xattr.sys_fremovexattr, "only on files of the sandbox's view", "fd str"),
    "setxattr": (xattr.sys_setxattr, "done by the library OS; no POSIX ACLs", "path str ptr int hex"),
    "lsetxattr": (xattr.sys_lsetxattr, "done by the library OS; no POSIX ACLs", "path str ptr int hex"),
    "removexattr": (xattr.sys_removexattr, "done by the library OS", "path str"),
    "lremovexattr": (xattr.sys_lremovexattr, "done by the library OS", "path str"),
    "getxattr": (
        xattr.sys_getxattr,
        "read by the library OS from the file it resolved; none in /proc",
        "path str ptr int",
    ),
    "lgetxattr": (
        xattr.sys_lgetxattr,
        "read by the library OS from the file it resolved; none in /proc",
        "path str ptr int",
    ),
    "listxattr": (
        xattr.sys_listxattr,
        "read by the library OS from the file it resolved; none in /proc",
        "path ptr int",
    ),
    "llistxattr": (
        xattr.sys_llistxattr,
        "read by the library OS from the file it resolved; none in /proc",
        "path ptr int",
    ),
    "capget": (identity.sys_capget, "virtual: all for root, none for others", "ptr ptr"),
    "capset": (identity.sys_capset, "virtual", "ptr ptr"),
    "uname": (info.sys_uname, "the manifest's kernel identity", "ptr"),
    "sysinfo": (info.sys_sysinfo, "uptime and process count are the sandbox's", "ptr"),
    "socket": (net.sys_socket, "unix, inet, inet6, netlink-route only", "int hex int"),
    "socketpair": (net.sys_socketpair, "unix only", "int hex int ptr"),
    "bind": (
        net.sys_bind,
        "unix paths checked for the caller, bound by the kernel in the sandbox's root",
        "fd ptr int",
    ),
    "connect": (net.sys_connect, "unix paths checked for the caller; loopback only", "fd ptr int"),
    "statfs": (fs_stat.sys_statfs, "resolved and checked, then run by the kernel in the sandbox's root", "path ptr"),
    "inotify_add_watch": (fs_stat.sys_inotify_add_watch, "read permission checked for the caller", "fd path hex"),
    "ioctl": (control.sys_ioctl, "a second list of safe requests; TIOCSTI denied; others ENOTTY", "fd hex hex"),
    "fcntl": (control.sys_fcntl, "owner/signal/lease/pipe-size commands", "fd int hex"),
    "prctl": (control.sys_prctl, "options that act on the caller only", "int hex hex hex hex"),
    "arch_prctl": (control.sys_arch_prctl, "GS base, CPUID faulting, CET status", "hex hex"),
    "personality": (control.sys_personality, "PER_LINUX and ADDR_NO_RANDOMIZE only", "hex"),
}

# Confined by the sandbox's namespaces, root and rlimits once trapped.
_CHECKED: dict[str, str] = {
    # Rare enough to cost a trap, so kept out of the ABI (which stays small):
    "msync": "a mapping of a held fd",
    "flock": "advisory lock on a held fd",
    "fsync": "held fd",
    "fdatasync": "held fd",
    "sched_getaffinity": "the caller's CPU mask",
    "rt_sigtimedwait": "waits for a signal to the caller",
    "shutdown": "held socket",
    "getsockopt": "held socket",
    "setsockopt": "held socket",
    "epoll_create1": "new epoll",
    "eventfd2": "new eventfd",
    "wait4": "the caller's own children, in its pid namespace",
    "waitid": "the caller's own children, in its pid namespace",
    "getppid": "pid namespace",
    "getpgid": "pid namespace",
    "setpgid": "pid namespace",
    "getpgrp": "pid namespace",
    "setsid": "pid namespace",
    "getsid": "pid namespace",
    "listen": "held socket",
    "accept": "held socket",
    "getsockname": "held socket",
    "getpeername": "held socket",
    "recvmmsg": "held socket",
    "sendmmsg": "held socket",
    "pipe": "new pipe",
    "select": "held fds",
    "epoll_create": "new epoll",
    "epoll_pwait2": "held epoll",
    "eventfd": "new eventfd",
    "signalfd": "the caller's signals",
    "signalfd4": "the caller's signals",
    "timerfd_create": "new timer",
    "timerfd_settime": "held timer",
    "timerfd_gettime": "held timer",
    "timer_create": "the caller's timer",
    "timer_settime": "the caller's timer",
    "timer_gettime": "the caller's timer",
    "timer_getoverrun": "the caller's timer",
    "timer_delete": "the caller's timer",
    "alarm": "the caller's timer",
    "getitimer": "the caller's timer",
    "setitimer": "the caller's timer",
    "pause": "waits for a signal",
    "rt_sigpending": "the caller's signals",
    "rt_sigqueueinfo": "pid namespace",
    "rt_tgsigqueueinfo": "pid namespace",
    "pidfd_open": "pid namespace",
    "pidfd_send_signal": "held pidfd",
    "memfd_create": "new anonymous file",
    "mlock": "bounded by RLIMIT_MEMLOCK",
    "mlock2": "bounded by RLIMIT_MEMLOCK",
    "munlock": "the caller's memory",
    "mlockall": "bounded by RLIMIT_MEMLOCK",
    "munlockall": "the caller's memory",
    "mincore": "the caller's memory",
    "membarrier": "the caller's threads",
    "sched_setaffinity": "the caller's threads",
    "sched_getparam": "pid namespace",
    "sched_setparam": "pid namespace; no privilege",
    "sched_getscheduler": "pid namespace",
    "sched_setscheduler": "pid namespace; no privilege",
    "sched_get_priority_max": "constant",
    "sched_get_priority_min": "constant",
    "sched_rr_get_interval": "pid namespace",
    "sched_getattr": "pid namespace",
    "sched_setattr": "pid namespace; no privilege",
    "getpriority": "pid namespace",
    "setpriority": "pid namespace; no privilege",
    "getcpu": "the caller's CPU",
    "clock_getres": "a clock",
    "time": "the clock",
    "sync": "flushes the host's caches; no data",
    "syncfs": "held fd",
    "fadvise64": "held fd",
    "readahead": "held fd",
    "fallocate": "held fd",
    "sendfile": "held fds",
    "copy_file_range": "held fds",
    "splice": "held fds",
    "tee": "held fds",
    "vmsplice": "held pipe",
    "close_range": "the caller's fds",
    "futex_waitv": "the caller's memory",
    "preadv": "held fd",
    "pwritev": "held fd",
    "preadv2": "held fd",
    "pwritev2": "held fd",
    "getrusage": "the caller",
    "times": "the caller",
    "getrlimit": "the caller",
    "setrlimit": "cannot raise a hard limit without privilege",
    "prlimit64": "pid namespace; cannot raise a hard limit",
    "fstatfs": "held fd",
    "fgetxattr": "held fd",
    "flistxattr": "held fd",
    "inotify_init": "new inotify",
    "inotify_init1": "new inotify",
    "inotify_rm_watch": "held inotify",
    "shmget": "ipc namespace",
    "shmat": "ipc namespace",
    "shmdt": "ipc namespace",
    "shmctl": "ipc namespace",
    "semget": "ipc namespace",
    "semop": "ipc namespace",
    "semtimedop": "ipc namespace",
    "semctl": "ipc namespace",
    "msgget": "ipc namespace",
    "msgsnd": "ipc namespace",
    "msgrcv": "ipc namespace",
    "msgctl": "ipc namespace",
    "mq_open": "ipc namespace",
    "mq_unlink": "ipc namespace",
    "mq_timedsend": "ipc namespace",
    "mq_timedreceive": "ipc namespace",
    "mq_notify": "ipc namespace",
    "mq_getsetattr": "ipc namespace",
    "io_setup": "held fds",
    "io_destroy": "held fds",
    "io_submit": "held fds",
    "io_cancel": "held fds",
    "io_getevents": "held fds",
    "io_pgetevents": "held fds",
    "get_robust_list": "pid namespace",
    "set_mempolicy": "the caller's memory",
    "get_mempolicy": "the caller's memory",
    "mbind": "the caller's memory",
    "pkey_alloc": "the caller's memory",
    "pkey_free": "the caller's memory",
    "pkey_mprotect": "the caller's memory",
    "seccomp": "adds filters to the caller only",
    "landlock_create_ruleset": "restricts the caller only",
    "landlock_add_rule": "restricts the caller only",
    "landlock_restrict_self": "restricts the caller only",
    "ioprio_get": "pid namespace",
    "ioprio_set": "pid namespace; no privilege",
    "cachestat": "held fd",
    "map_shadow_stack": "the caller's memory",
}

_DENIED: dict[str, int] = {
    **{
        n: errno.EPERM
        for n in [
            "mount",
            "umount2",
            "pivot_root",
            "chroot",
            "swapon",
            "swapoff",
            "reboot",
            "kexec_load",
            "kexec_file_load",
            "init_module",
            "finit_module",
            "delete_module",
            "acct",
            "settimeofday",
            "clock_settime",
            "clock_adjtime",
            "adjtimex",
            "sethostname",
            "setdomainname",
            "iopl",
            "ioperm",
            "modify_ldt",
            "vhangup",
            "quotactl",
            "quotactl_fd",
            "syslog",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "process_madvise",
            "pidfd_getfd",
            "open_by_handle_at",
            "perf_event_open",
            "bpf",
            "userfaultfd",
            "keyctl",
            "add_key",
            "request_key",
            "unshare",
            "setns",
            "fanotify_init",
            "fanotify_mark",
            "move_mount",
            "open_tree",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "mount_setattr",
            "kcmp",
            "lookup_dcookie",
            "nfsservctl",
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "memfd_secret",
            "statmount",
            "listmount",
            "lsm_get_self_attr",
            "lsm_set_self_attr",
            "lsm_list_modules",
            "migrate_pages",
            "move_pages",
            "set_mempolicy_home_node",
            "open_tree_attr",
        ]
    },
    "name_to_handle_at": errno.EOPNOTSUPP,
}


def build_table() -> dict[int, Entry]:
    table: dict[int, Entry] = {}
    for name, (fn, note, types) in _FULL.items():
        table[SYSCALLS_X86_64[name]] = Entry(name, fn, FULL, note, _nargs(fn), tuple(types.split()))
    for name, note in _CHECKED.items():
        table[SYSCALLS_X86_64[name]] = Entry(name, _passthrough, CHECKED, note, 0)
    for name, code in _DENIED.items():
        table[SYSCALLS_X86_64[name]] = Entry(name, _denied(code), DENIED, errno.errorcode[code], 0)
    return table


TABLE = build_table()
