/* fcntl_hostile: fcntl on descriptors the sandbox should not hold and with
 * commands that reach other processes. It scans every fd number up to its
 * limit for anything open beyond stdin/out/err (a listener, root or scratch
 * fd of the library OS, a set-up pipe of the monitor would show up here:
 * "HELD <fd> <what /proc/self/fd says>"); asks F_DUPFD for numbers past the
 * limit; points F_SETOWN / F_SETOWN_EX of a pipe at a host pid, at motte's
 * pid and at their process groups, then makes the pipe ready with O_ASYNC
 * set so that SIGIO would be sent there; F_SETSIG with SIGKILL to the same
 * owners; F_NOTIFY, F_SETPIPE_SZ beyond the maximum, F_CANCELLK,
 * F_DUPFD_QUERY, commands with the upper 32 bits set and unknown commands;
 * and removing the seals of a /proc file.
 * Usage: fcntl_hostile HOSTPID MOTTEPID
 *
 * What should stop it: the program holds only fds installed for it; owner
 * commands are run by the kernel in the sandbox's pid namespace, where host
 * pids do not exist (ESRCH), so no SIGIO can leave; the rest is refused by
 * the filter's command list and the library OS (EINVAL) or by the kernel
 * (EPERM, EBADF). The host process and motte must survive.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/resource.h>

#ifndef F_OWNER_TID
#define F_OWNER_TID 0
#define F_OWNER_PID 1
#define F_OWNER_PGRP 2
#endif

struct owner_ex {
    int type;
    int pid;
};

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long hostpid = atol(argv[1]), mottepid = atol(argv[2]);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int held = 0;
    for (long fd = 3; fd < (long)rl.rlim_cur; fd++) {
        if (syscall(SYS_fcntl, fd, F_GETFD) >= 0) {
            char p[64], t[512] = "?";
            snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
            long n = syscall(SYS_readlinkat, AT_FDCWD, p, t, sizeof t - 1);
            if (n > 0)
                t[n] = 0;
            printf("HELD\t%ld\t%s\n", fd, t);
            held++;
        }
    }
    count("fds_held_beyond_stdio", held);
    REPORT("fcntl_getfd_1M", syscall(SYS_fcntl, 1 << 20, F_GETFD));
    REPORT("fcntl_getfd_neg", syscall(SYS_fcntl, -1, F_GETFD));
    REPORT("dupfd_100000", syscall(SYS_fcntl, 1, F_DUPFD, 100000));
    REPORT("dupfd_cloexec_intmax", syscall(SYS_fcntl, 1, F_DUPFD_CLOEXEC, 0x7fffffff));
    REPORT("dupfd_rlimit", syscall(SYS_fcntl, 1, F_DUPFD, (long)rl.rlim_cur));

    signal(SIGIO, SIG_IGN);
    int p[2];
    pipe(p);
    struct {
        const char *name;
        long who;
    } owners[] = {
        {"host", hostpid}, {"host_pgrp", -hostpid}, {"motte", mottepid}, {"motte_pgrp", -mottepid},
    };
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++) {
        char n[64];
        snprintf(n, sizeof n, "setown:%s", owners[i].name);
        REPORT(n, syscall(SYS_fcntl, p[0], F_SETOWN, owners[i].who));
        snprintf(n, sizeof n, "getown_after:%s", owners[i].name);
        REPORT(n, syscall(SYS_fcntl, p[0], F_GETOWN));
        struct owner_ex ex = {owners[i].who < 0 ? F_OWNER_PGRP : F_OWNER_PID, (int)labs(owners[i].who)};
        snprintf(n, sizeof n, "setown_ex:%s", owners[i].name);
        REPORT(n, syscall(SYS_fcntl, p[0], 15 /* F_SETOWN_EX */, &ex));
        ex.type = F_OWNER_TID;
        snprintf(n, sizeof n, "setown_ex_tid:%s", owners[i].name);
        REPORT(n, syscall(SYS_fcntl, p[0], 15, &ex));
        snprintf(n, sizeof n, "setsig_kill:%s", owners[i].name);
        REPORT(n, syscall(SYS_fcntl, p[0], 10 /* F_SETSIG */, SIGKILL));
        snprintf(n, sizeof n, "setfl_async:%s", owners[i].name);
        REPORT(n, syscall(SYS_fcntl, p[0], F_SETFL, O_ASYNC | O_NONBLOCK));
        write(p[1], "x", 1); /* ready for reading: SIGIO (or SIGKILL) to the owner */
        char c;
        read(p[0], &c, 1);
    }
    /* the same on the write end of the standard output, a pipe the host reads */
    REPORT("setown_stdout_host", syscall(SYS_fcntl, 1, F_SETOWN, hostpid));
    REPORT("setown_stdout_motte", syscall(SYS_fcntl, 1, F_SETOWN, mottepid));
    REPORT("setsig_stdout_kill", syscall(SYS_fcntl, 1, 10, SIGKILL));
    REPORT("notify", syscall(SYS_fcntl, 0, 1026 /* F_NOTIFY */, 0x80000000 | 0x3f));
    REPORT("setpipe_sz_1g", syscall(SYS_fcntl, p[1], 1031 /* F_SETPIPE_SZ */, 1 << 30));
    REPORT("cancellk", syscall(SYS_fcntl, p[0], 1029 /* F_CANCELLK */, 0));
    REPORT("dupfd_query", syscall(SYS_fcntl, p[0], 1027 /* F_DUPFD_QUERY */, 1));
    REPORT("getlease_hi", syscall(SYS_fcntl, p[0], (1L << 32) | 1025, 0));
    REPORT("setlease_hibits_pipe", syscall(SYS_fcntl, p[0], (1L << 32) | 1024, 0));
    REPORT("cmd_unknown_9999", syscall(SYS_fcntl, p[0], 9999, 0));
    /* a command or request the library OS answers itself, on an fd not held: EBADF, as the kernel */
    REPORT("cmd_unknown_badfd", syscall(SYS_fcntl, 9999, 9999, 0));
    REPORT("setlease_badfd", syscall(SYS_fcntl, 9999, 1024 /* F_SETLEASE */, 0));
    REPORT("ioctl_unknown_badfd", syscall(SYS_ioctl, 9999, 0x5401deadUL, 0));
    REPORT("cmd_negative", syscall(SYS_fcntl, p[0], -1, 0));
    errno = 0;
    long pf = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY, 0);
    report("open_proc_status", pf, errno);
    REPORT("proc_add_seal_none", syscall(SYS_fcntl, pf, 1033 /* F_ADD_SEALS */, 0));
    REPORT("proc_get_seals", syscall(SYS_fcntl, pf, 1034 /* F_GET_SEALS */));
    REPORT("proc_setfl_rdwr", syscall(SYS_fcntl, pf, F_SETFL, O_RDWR));
    REPORT("proc_write_after", write((int)pf, "x", 1));
    printf("ALIVE\n");
    return 0;
}
