/* inherited_fd: uses a file descriptor motte's own parent left open and
 * inheritable (a host directory, e.g. a shell's `3</some/dir` or a leaked
 * descriptor of a build tool) to reach the host: getdents64 on it, openat
 * relative to it, fchdir into it and then let the kernel walk `..` from
 * there with the calls the library OS hands to the kernel (statfs,
 * getxattr, inotify_add_watch, connect to a unix socket), and fsetxattr on
 * it (a host change).
 * Usage: inherited_fd FD NAME   (NAME: a file in that host directory)
 *
 * What should stop it: the sandbox must hold no host descriptor beyond its
 * standard streams (motte closes, or marks close-on-exec, everything else
 * before the program starts), so every call here fails with EBADF.
 */
#include "hostile.h"
#include <sys/inotify.h>
#include <sys/statfs.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int fd = atoi(argv[1]);
    char label[64];
    snprintf(label, sizeof label, "fd%d", fd);
    errno = 0;
    long n = list_fd(label, fd);
    report("getdents_inherited", n, errno);
    errno = 0;
    long f = syscall(SYS_openat, fd, argv[2], O_RDONLY, 0);
    report("openat_inherited", f, errno);
    if (f >= 0)
        dump_fd(argv[2], (int)f);
    REPORT("fsetxattr_inherited", syscall(SYS_fsetxattr, fd, "user.motte_pwned", "1", 1, 0));
    REPORT("fchdir_inherited", syscall(SYS_fchdir, fd));
    struct statfs sf;
    char buf[256];
    REPORT("statfs_name", syscall(SYS_statfs, argv[2], &sf));
    REPORT("statfs_dotdot_shadow", syscall(SYS_statfs, "../../../../../../etc/shadow", &sf));
    REPORT("getxattr_dotdot_shadow", syscall(SYS_getxattr, "../../../../../../etc/shadow", "user.x", buf, sizeof buf));
    REPORT("setxattr_name", syscall(SYS_setxattr, argv[2], "user.motte_pwned", "1", 1, 0));
    int in = inotify_init1(0);
    REPORT("inotify_dotdot_etc", syscall(SYS_inotify_add_watch, in, "../../../../../../etc", IN_ALL_EVENTS));
    printf("DONE\n");
    return 0;
}
