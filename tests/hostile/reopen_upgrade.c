/* reopen_upgrade: opens a file it may only read, then re-opens it for
 * writing through /proc/self/fd/N (a magic link, which on Linux re-checks
 * permissions against the inode, not against the original open), and
 * appends to it. Also the same through /proc/self/fd/N after a chdir, and
 * through a symlink the program plants to /proc/self/fd/N.
 * Usage: reopen_upgrade FILE   (e.g. /etc/passwd as an ordinary user, or a
 *                               file of a read-only mount)
 *
 * What should stop it: the library OS serves /proc/self/fd/N itself; it
 * must apply the same permission check as for a fresh open of the file by
 * the caller's (virtual) credentials, and a read-only mount stays EROFS.
 */
#include "hostile.h"

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *f = argv[1];
    REPORT("direct_open_wr", syscall(SYS_openat, AT_FDCWD, f, O_WRONLY | O_APPEND, 0));
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, f, O_RDONLY, 0);
    report("open_rd", fd, errno);
    if (fd < 0)
        return 0;
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
    errno = 0;
    long w = syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_APPEND, 0);
    report("reopen_wr", w, errno);
    if (w >= 0)
        REPORT("reopen_write", syscall(SYS_write, w, "motte-reopen-pwned\n", 19));
    syscall(SYS_symlinkat, p, AT_FDCWD, "/tmp/via-magic");
    errno = 0;
    long w2 = syscall(SYS_openat, AT_FDCWD, "/tmp/via-magic", O_RDWR, 0);
    report("symlink_to_magic_rdwr", w2, errno);
    if (w2 >= 0)
        REPORT("symlink_to_magic_write", syscall(SYS_pwrite64, w2, "motte-reopen-pwned\n", 19, 0));
    REPORT("truncate_via_magic", syscall(SYS_truncate, p, 0));
    printf("DONE\n");
    return 0;
}
