/* ro_write: tries every way to change a read-only host mount: open for
 * writing, O_TRUNC, O_CREAT, O_TMPFILE, truncate, unlink, rename, link,
 * symlink, mkdir, mknod, chmod, chown, utimensat, setxattr, and the
 * /proc/self/fd/N re-open of a read-only fd with O_RDWR, and a MAP_SHARED
 * writable mapping of a read-only fd.
 * Usage: ro_write DIR FILE   (FILE is a name inside DIR)
 *
 * What should stop it: the bind mount is MS_RDONLY in the sandbox's mount
 * namespace (EROFS from the kernel whoever asks, the library OS included);
 * chown is virtual but refused on a read-only mount; a read-only fd cannot
 * be mapped shared-writable. The host file and directory must be unchanged.
 */
#include "hostile.h"
#include <sys/mman.h>
#include <sys/xattr.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    char f[4096], n[4096], d[4096], l[4096], fifo[4096], r[4096];
    snprintf(f, sizeof f, "%s/%s", argv[1], argv[2]);
    snprintf(n, sizeof n, "%s/created-by-sandbox", argv[1]);
    snprintf(d, sizeof d, "%s/dir-by-sandbox", argv[1]);
    snprintf(l, sizeof l, "%s/link-by-sandbox", argv[1]);
    snprintf(fifo, sizeof fifo, "%s/fifo-by-sandbox", argv[1]);
    snprintf(r, sizeof r, "%s/renamed-by-sandbox", argv[1]);

    REPORT("open_wronly", syscall(SYS_openat, AT_FDCWD, f, O_WRONLY, 0));
    REPORT("open_rdwr", syscall(SYS_openat, AT_FDCWD, f, O_RDWR, 0));
    REPORT("open_append", syscall(SYS_openat, AT_FDCWD, f, O_WRONLY | O_APPEND, 0));
    REPORT("open_trunc", syscall(SYS_openat, AT_FDCWD, f, O_RDONLY | O_TRUNC, 0));
    REPORT("open_creat", syscall(SYS_openat, AT_FDCWD, n, O_WRONLY | O_CREAT | O_EXCL, 0644));
    REPORT("creat", syscall(SYS_creat, n, 0644));
    REPORT("open_tmpfile", syscall(SYS_openat, AT_FDCWD, argv[1], O_TMPFILE | O_RDWR, 0600));
    REPORT("truncate", syscall(SYS_truncate, f, 0));
    REPORT("unlink", syscall(SYS_unlinkat, AT_FDCWD, f, 0));
    REPORT("rename", syscall(SYS_renameat, AT_FDCWD, f, AT_FDCWD, r));
    REPORT("link", syscall(SYS_linkat, AT_FDCWD, f, AT_FDCWD, n, 0));
    REPORT("symlink", syscall(SYS_symlinkat, "x", AT_FDCWD, l));
    REPORT("mkdir", syscall(SYS_mkdirat, AT_FDCWD, d, 0755));
    REPORT("mknod_fifo", syscall(SYS_mknodat, AT_FDCWD, fifo, S_IFIFO | 0644, 0));
    REPORT("chmod", syscall(SYS_fchmodat, AT_FDCWD, f, 04777));
    REPORT("chown", syscall(SYS_fchownat, AT_FDCWD, f, 4242, 4242, 0));
    struct timespec ts[2] = {{1, 0}, {1, 0}};
    REPORT("utimensat", syscall(SYS_utimensat, AT_FDCWD, f, ts, 0));
    REPORT("setxattr", syscall(SYS_setxattr, f, "user.motte", "x", 1, 0));

    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, f, O_RDONLY, 0);
    report("open_rdonly", fd, errno);
    if (fd >= 0) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fd);
        REPORT("reopen_rdwr", syscall(SYS_openat, AT_FDCWD, p, O_RDWR, 0));
        REPORT("reopen_trunc", syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_TRUNC, 0));
        REPORT("ftruncate", syscall(SYS_ftruncate, fd, 0));
        REPORT("fchmod", syscall(SYS_fchmod, fd, 0777));
        REPORT("fsetxattr", syscall(SYS_fsetxattr, fd, "user.motte", "x", 1, 0));
        REPORT("write_rdonly_fd", syscall(SYS_write, fd, "x", 1));
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
        report("mmap_shared_write", m == MAP_FAILED ? -1 : 0, errno);
        if (m != MAP_FAILED)
            memcpy(m, "PWNED", 5);
    }
    printf("DONE\n");
    return 0;
}
