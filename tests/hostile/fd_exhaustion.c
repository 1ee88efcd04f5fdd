/* fd_exhaustion: runs out of descriptors every way (opens of files and of
 * /proc files served by the library OS, pipes, sockets, eventfds, epolls,
 * memfds, dups) until EMFILE, in two processes at once, and meanwhile and
 * afterwards checks that the library OS still serves: stat, getuid, uname
 * and readlink (no fd needed) answer, and once one fd is closed, an open
 * gets exactly that slot.
 * Usage: fd_exhaustion   (run with --nofile N)
 *
 * What should stop it: limits.open_files is RLIMIT_NOFILE of every process:
 * the kernel answers EMFILE; the library OS installs fds into the caller's
 * table only, so its own table, and its service to the other process, are
 * untouched.
 */
#include "hostile.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>

static int exhaust(const char *who)
{
    int total = 0, err = 0;
    for (int kind = 0; kind < 7; kind++) {
        for (;;) {
            long fd;
            int p[2];
            errno = 0;
            switch (kind) {
            case 0:
                fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
                break;
            case 1:
                fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY, 0);
                break;
            case 2:
                fd = syscall(SYS_pipe2, p, 0) == 0 ? p[0] : -1;
                break;
            case 3:
                fd = socket(AF_UNIX, SOCK_STREAM, 0);
                break;
            case 4:
                fd = eventfd(0, 0);
                break;
            case 5:
                fd = epoll_create1(0);
                break;
            default:
                fd = syscall(SYS_dup, 0);
                break;
            }
            if (fd < 0) {
                err = errno;
                break;
            }
            total++;
        }
        /* free one slot for the next kind */
        for (int fd = 1023; fd > 2; fd--)
            if (close(fd) == 0)
                break;
    }
    while (syscall(SYS_dup, 0) >= 0) /* and the last free slot */
        total++;
    char n[64];
    snprintf(n, sizeof n, "%s:fds_taken", who);
    count(n, total);
    snprintf(n, sizeof n, "%s:last_error", who);
    report(n, -1, err);
    struct stat st;
    struct utsname u;
    char link[256];
    snprintf(n, sizeof n, "%s:full_stat", who);
    REPORT(n, syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0));
    snprintf(n, sizeof n, "%s:full_getuid", who);
    REPORT(n, syscall(SYS_getuid));
    snprintf(n, sizeof n, "%s:full_uname", who);
    REPORT(n, syscall(SYS_uname, &u));
    snprintf(n, sizeof n, "%s:full_readlink", who);
    REPORT(n, syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", link, sizeof link));
    snprintf(n, sizeof n, "%s:full_open", who);
    REPORT(n, syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
    close(10);
    snprintf(n, sizeof n, "%s:open_after_close_10", who);
    REPORT(n, syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
    return total;
}

int main(void)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        exhaust("child");
        fflush(stdout);
        _exit(0);
    }
    exhaust("parent");
    int st;
    waitpid(c, &st, 0);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    REPORT("final_open", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
    printf("DONE\n");
    return 0;
}
