/* disk_fill: fills every writable place of the view until the disk is full:
 * a file in /tmp written 1 MiB at a time, then the home directory ($HOME), /dev/shm
 * and /etc (the copy-on-write layer over the host's /etc), a copy-up of a
 * large host file opened for appending, fallocate of a gigabyte, a sparse
 * file truncated to a terabyte and written at its end. It reports how far
 * each got ("FILLED <where> <MiB> <errno name>"), then frees the space and
 * checks that writing works again.
 * Usage: disk_fill BIGFILE   (a large file of the view, e.g. /usr/bin/python3)
 *
 * What should stop it: the writable layer (/tmp, the home, /dev/shm and the
 * overlays' upper directories) is one tmpfs of limits.writable_layer_mb:
 * ENOSPC at that size, whatever the path; the host's disks are never
 * written.
 */
#include "hostile.h"

static char chunk[1 << 20];

static long fill(const char *path)
{
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_WRONLY | O_APPEND, 0644);
    long mb = 0;
    int err = errno;
    if (fd >= 0) {
        for (;;) {
            long w = write((int)fd, chunk, sizeof chunk);
            if (w != (long)sizeof chunk) {
                err = w < 0 ? errno : ENOSPC;
                break;
            }
            mb++;
        }
        close((int)fd);
    }
    printf("FILLED\t%s\t%ld\t%s\n", path, mb, ename(err));
    fflush(stdout);
    return mb;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    memset(chunk, 'D', sizeof chunk);
    long total = fill("/tmp/fill");
    char home[4200];
    snprintf(home, sizeof home, "%s/fill", getenv("HOME") ? getenv("HOME") : "/home/user");
    total += fill(home);
    total += fill("/dev/shm/fill");
    total += fill("/etc/fill");
    count("total_mb", total);
    errno = 0;
    long big = syscall(SYS_openat, AT_FDCWD, argv[1], O_WRONLY | O_APPEND, 0);
    report("copy_up_big_file", big, errno);
    long fa = syscall(SYS_openat, AT_FDCWD, "/tmp/falloc", O_CREAT | O_WRONLY, 0644);
    REPORT("fallocate_1g", syscall(SYS_fallocate, fa, 0, 0, 1L << 30));
    REPORT("ftruncate_1t", syscall(SYS_ftruncate, fa, 1L << 40));
    REPORT("pwrite_at_1t", pwrite((int)fa, chunk, sizeof chunk, (1L << 40) - (1 << 20)));
    REPORT("mkdir_when_full", syscall(SYS_mkdirat, AT_FDCWD, "/tmp/newdir", 0755));
    REPORT("unlink_fill", syscall(SYS_unlinkat, AT_FDCWD, "/tmp/fill", 0));
    REPORT("unlink_fill_home", syscall(SYS_unlinkat, AT_FDCWD, home, 0));
    long w = syscall(SYS_openat, AT_FDCWD, "/tmp/after", O_CREAT | O_WRONLY, 0644);
    REPORT("write_after_free", write((int)w, chunk, sizeof chunk));
    printf("DONE\n");
    return 0;
}
