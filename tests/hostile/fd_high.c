/* fd_high: descriptor numbers at and past every bound: dup2/dup3/F_DUPFD to
 * 100000, 2^20, INT_MAX and negative numbers; raising RLIMIT_NOFILE past its
 * hard limit; then filling the whole table with dup2 over every number the
 * library OS might want to install into (3 .. limit-1), so that a trapped
 * open has no slot left, and checking that trapped calls still get served
 * (stat, getuid, uname need no slot; open, socket and pipe answer EMFILE)
 * and that a freed slot is used again, for the file asked for.
 * Usage: fd_high
 *
 * What should stop a failure: the kernel bounds every fd number by the
 * caller's RLIMIT_NOFILE (EBADF/EINVAL past it, EMFILE when full) and the
 * library OS installs fds with SECCOMP_IOCTL_NOTIF_ADDFD into the lowest free
 * slot of the caller only; its own table is separate.
 */
#include "hostile.h"
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>

int main(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    count("nofile_soft", rl.rlim_cur);
    REPORT("dup2_100000", syscall(SYS_dup2, 1, 100000));
    REPORT("dup2_1M", syscall(SYS_dup2, 1, 1 << 20));
    REPORT("dup2_intmax", syscall(SYS_dup2, 1, 0x7fffffff));
    REPORT("dup2_neg", syscall(SYS_dup2, 1, -1));
    REPORT("dup2_from_neg", syscall(SYS_dup2, -5, 10));
    REPORT("dup3_100000", syscall(SYS_dup3, 1, 100000, O_CLOEXEC));
    REPORT("dup3_badflags", syscall(SYS_dup3, 1, 10, 0x1234));
    REPORT("dupfd_100000", syscall(SYS_fcntl, 1, F_DUPFD, 100000));
    struct rlimit big = {rl.rlim_max + 1, rl.rlim_max + 1};
    REPORT("raise_nofile_hard", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &big, NULL));
    REPORT("raise_nofile_setrlimit", syscall(SYS_setrlimit, RLIMIT_NOFILE, &big));
    REPORT("dup2_at_limit", syscall(SYS_dup2, 1, (long)rl.rlim_cur));

    /* fill every slot from 3 up */
    long filled = 0;
    for (long fd = 3; fd < (long)rl.rlim_cur; fd++)
        if (syscall(SYS_dup2, 0, fd) == fd)
            filled++;
    count("filled", filled);
    struct stat st;
    struct utsname u;
    REPORT("full:open", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
    REPORT("full:socket", socket(AF_UNIX, SOCK_STREAM, 0));
    int p[2];
    REPORT("full:pipe", syscall(SYS_pipe2, p, 0));
    REPORT("full:memfd", syscall(SYS_memfd_create, "x", 0));
    REPORT("full:stat", syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0));
    REPORT("full:getuid", syscall(SYS_getuid));
    REPORT("full:uname", syscall(SYS_uname, &u));
    REPORT("full:open_proc", syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY, 0));
    close(500);
    REPORT("reuse:open_after_close_500", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
    char buf[64] = {0};
    long n = pread(500, buf, sizeof buf - 1, 0);
    if (n > 0)
        hexline("DATA", "fd500", (unsigned char *)buf, n);
    for (long fd = 3; fd < (long)rl.rlim_cur; fd++)
        close((int)fd);
    errno = 0;
    long a = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
    report("open_after_clear", a, errno);
    if (a >= 0) {
        n = pread((int)a, buf, sizeof buf - 1, 0);
        if (n > 0)
            hexline("DATA", "after_clear", (unsigned char *)buf, n);
    }
    printf("DONE\n");
    return 0;
}
