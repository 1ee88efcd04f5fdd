/* close_everything: closes every descriptor it has, standard streams
 * included (close_range(0, ~0)), and then carries on as if nothing
 * happened: a library OS that kept any state in the program's fd table, or
 * a monitor that needed the program's stdio, would stop serving it. It
 * opens a report file on a read-write mount and writes there the outcome of
 * a series of trapped calls (open, stat, getuid, mkdir, socketpair, fork and
 * wait, execve of a child), then also tries close_range with
 * CLOSE_RANGE_UNSHARE and CLOSE_RANGE_CLOEXEC and bad flags.
 * Usage: close_everything REPORTFILE
 *
 * What should stop a failure: the library OS holds its own copies of
 * whatever it needs, never the program's numbers, and motte's own stdio is
 * its own; the program's exit status still comes back.
 */
#include "hostile.h"
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/close_range.h>

static FILE *out;

#define LOG(name, expr)                                                              \
    do {                                                                             \
        errno = 0;                                                                   \
        long _r = (long)(expr);                                                      \
        fprintf(out, "R\t%s\t%ld\t%s\n", (name), _r, _r < 0 ? ename(errno) : "OK"); \
        fflush(out);                                                                 \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    long r = syscall(SYS_close_range, 0, ~0U, 0);
    int fd = (int)syscall(SYS_openat, AT_FDCWD, argv[1], O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0)
        return 3;
    out = fdopen(fd, "w");
    fprintf(out, "R\tclose_range_all\t%ld\tOK\nOPENED_REPORT_AS\t%d\n", r, fd);
    struct stat st;
    LOG("stat", syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0));
    LOG("getuid", syscall(SYS_getuid));
    LOG("open", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
    LOG("mkdir", syscall(SYS_mkdirat, AT_FDCWD, "/tmp/after-close", 0755));
    int sv[2];
    LOG("socketpair", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
    LOG("fstat_unheld_fd9", syscall(SYS_fstat, 9, &st));
    LOG("write_unheld_fd9", write(9, "x", 1));
    fflush(out);
    pid_t p = fork();
    if (p == 0) {
        char *av[] = {"true", NULL};
        execve("/bin/true", av, NULL);
        _exit(99);
    }
    int status = -1;
    LOG("fork_wait", waitpid(p, &status, 0));
    LOG("child_status", status);
    LOG("close_range_unshare", syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE));
    LOG("close_range_cloexec", syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_CLOEXEC));
    LOG("close_range_badflags", syscall(SYS_close_range, 0, ~0U, 0x1234));
    LOG("close_range_inverted", syscall(SYS_close_range, 10, 3, 0));
    LOG("open_again", syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY, 0));
    fprintf(out, "STILL-SERVED\n");
    fclose(out);
    return 7;
}
