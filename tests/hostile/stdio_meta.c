/* stdio_meta: the host files motte's caller gave as standard streams are
 * the only host files outside the view that a sandbox holds. Through its
 * stdout (a host file opened for appending) it tries to change more than
 * the stream: the file's mode (fchmod, including set-uid), owner (fchown),
 * times (futimens), extended attributes (fsetxattr, fremovexattr), a write
 * lease; and its existing contents: fallocate punching a hole, zeroing or
 * collapsing a range at the start, clearing O_APPEND with F_SETFL then
 * pwrite inside the old contents, ftruncate.
 * Usage: stdio_meta meta XATTR_TO_REMOVE   (mode, owner, times, xattrs,
 *                                          a write lease)
 *        stdio_meta content -                (the bytes already there)
 * Output goes to stderr (stdout is the target): one R line per attempt.
 *
 * What should stop it: a stream from outside the view is a stream, not a
 * file of the sandbox: the library OS must not apply metadata calls to it
 * with the invoking user's rights (the sandbox's root is virtual), and an
 * append-only stream must not rewrite what the host wrote before: motte
 * hands the program a pipe in place of a writable host file and copies it
 * into the file (monitor/stdio.py), so none of these calls reach the file.
 */
#include "hostile.h"
#include <linux/falloc.h>
#include <sys/xattr.h>

#define EREPORT(name, expr)                                                                          \
    do {                                                                                             \
        errno = 0;                                                                                   \
        long _r = (long)(expr);                                                                      \
        dprintf(2, "R\t%s\t%ld\t%s\n", (name), _r, _r < 0 ? ename(errno) : "OK");                    \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    if (!strcmp(argv[1], "meta")) {
        struct timespec ts[2] = {{1, 0}, {1, 0}};
        EREPORT("fchmod_setuid", syscall(SYS_fchmod, 1, 04777));
        EREPORT("fchown", syscall(SYS_fchown, 1, 1000, 1000));
        EREPORT("futimens", syscall(SYS_utimensat, 1, NULL, ts, 0));
        EREPORT("fsetxattr", syscall(SYS_fsetxattr, 1, "user.motte_pwned", "1", 1, 0));
        EREPORT("fremovexattr", syscall(SYS_fremovexattr, 1, argv[2]));
        EREPORT("fsetxattr_trusted", syscall(SYS_fsetxattr, 1, "trusted.motte_pwned", "1", 1, 0));
        EREPORT("fsetxattr_security_cap", syscall(SYS_fsetxattr, 1, "security.capability", "\1\0\0\2", 4, 0));
        EREPORT("setlease_write", syscall(SYS_fcntl, 1, F_SETLEASE, F_WRLCK));
        EREPORT("setlease_unlock", syscall(SYS_fcntl, 1, F_SETLEASE, F_UNLCK));
    } else {
        EREPORT("fallocate_punch", syscall(SYS_fallocate, 1, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4));
        EREPORT("fallocate_zero", syscall(SYS_fallocate, 1, FALLOC_FL_ZERO_RANGE, 4, 4));
        EREPORT("fallocate_collapse", syscall(SYS_fallocate, 1, FALLOC_FL_COLLAPSE_RANGE, 0, 4096));
        EREPORT("setfl_clear_append", syscall(SYS_fcntl, 1, F_SETFL, 0));
        EREPORT("pwrite_at_8", pwrite(1, "PWND", 4, 8));
        EREPORT("ftruncate_12", syscall(SYS_ftruncate, 1, 12));
    }
    dprintf(2, "DONE\n");
    return 0;
}
