/* stdio_pipe: the standard streams motte's caller passes in are often host
 * pipes, shared with host processes: stdout a pipe the host reads (and
 * others may write), stdin a pipe the host writes (and others may read).
 * The sandbox was given one direction of each. Through /proc/self/fd/N it
 * re-opens stdout for reading and reads whatever is queued there (data
 * other writers put in the pipe for the host), and re-opens stdin for
 * writing and writes into it (data the host's other readers would take for
 * the producer's); also through /dev/stdout and /dev/stdin, and for
 * read-write. It reports on stderr what it managed ("STOLEN <hex>").
 * Usage: stdio_pipe
 *
 * What should stop it: a re-open of a stream from outside the view never
 * gets more access than the stream was given (docs/security.md), whatever
 * kind of file it is: a pipe given write-only stays write-only.
 */
#include "hostile.h"

#define EREPORT(name, expr)                                                        \
    do {                                                                           \
        errno = 0;                                                                 \
        long _r = (long)(expr);                                                    \
        dprintf(2, "R\t%s\t%ld\t%s\n", (name), _r, _r < 0 ? ename(errno) : "OK"); \
    } while (0)

static void steal(const char *label, const char *path)
{
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_NONBLOCK, 0);
    char name[128];
    snprintf(name, sizeof name, "reopen_read:%s", label);
    dprintf(2, "R\t%s\t%ld\t%s\n", name, fd, fd < 0 ? ename(errno) : "OK");
    if (fd < 0)
        return;
    unsigned char buf[4096];
    long n = read((int)fd, buf, sizeof buf);
    if (n > 0) {
        dprintf(2, "STOLEN\t%s\t", label);
        for (long i = 0; i < n; i++)
            dprintf(2, "%02x", buf[i]);
        dprintf(2, "\n");
    }
    close((int)fd);
}

int main(void)
{
    steal("proc_fd_1", "/proc/self/fd/1");
    steal("dev_stdout", "/dev/stdout");
    EREPORT("reopen_rdwr:proc_fd_1", syscall(SYS_openat, AT_FDCWD, "/proc/self/fd/1", O_RDWR | O_NONBLOCK, 0));
    errno = 0;
    long in = syscall(SYS_openat, AT_FDCWD, "/proc/self/fd/0", O_WRONLY | O_NONBLOCK, 0);
    dprintf(2, "R\treopen_write:proc_fd_0\t%ld\t%s\n", in, in < 0 ? ename(errno) : "OK");
    if (in >= 0)
        EREPORT("inject:proc_fd_0", write((int)in, "MOTTE-INJECTED\n", 15));
    EREPORT("reopen_write:dev_stdin", syscall(SYS_openat, AT_FDCWD, "/dev/stdin", O_WRONLY | O_NONBLOCK, 0));
    dprintf(2, "DONE\n");
    return 0;
}
