/* device_nodes: the character devices of the sandbox's /dev (null, zero,
 * full, random, urandom) are the host's own device nodes, bound into the
 * view read-write so that they can be written to. Through them it tries to
 * change the host's nodes: chmod (to the mode they already have, so that a
 * success is harmless but visible on the host as a new ctime), utimensat
 * (times set to 1970, which the test puts back), chown, setxattr, truncate,
 * rename and unlink of the nodes, a hard link and a new node next to them.
 * Usage: device_nodes   (run as the sandbox's root: --user root)
 *
 * What should stop it: the sandbox's root is virtual: its chmod and times
 * may only touch files of the sandbox (the writable layer, read-write
 * mounts), never a host object that was bound in for its data; the /dev
 * directory itself is the read-only root tmpfs.
 */
#include "hostile.h"
#include <sys/xattr.h>

static const char *DEVS[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};

int main(void)
{
    struct timespec old[2] = {{1, 0}, {1, 0}};
    for (size_t i = 0; i < sizeof DEVS / sizeof DEVS[0]; i++) {
        char n[128];
        struct stat st;
        if (stat(DEVS[i], &st) != 0)
            continue;
        snprintf(n, sizeof n, "chmod_same:%s", DEVS[i]);
        REPORT(n, syscall(SYS_fchmodat, AT_FDCWD, DEVS[i], st.st_mode & 07777));
        snprintf(n, sizeof n, "utimensat:%s", DEVS[i]);
        REPORT(n, syscall(SYS_utimensat, AT_FDCWD, DEVS[i], old, 0));
        snprintf(n, sizeof n, "chown:%s", DEVS[i]);
        REPORT(n, syscall(SYS_fchownat, AT_FDCWD, DEVS[i], 1000, 1000, 0));
        snprintf(n, sizeof n, "setxattr:%s", DEVS[i]);
        REPORT(n, syscall(SYS_setxattr, DEVS[i], "user.motte_pwned", "1", 1, 0));
        snprintf(n, sizeof n, "truncate:%s", DEVS[i]);
        REPORT(n, syscall(SYS_truncate, DEVS[i], 0));
        long fd = syscall(SYS_openat, AT_FDCWD, DEVS[i], O_RDONLY, 0);
        snprintf(n, sizeof n, "fchmod_same:%s", DEVS[i]);
        REPORT(n, syscall(SYS_fchmod, fd, st.st_mode & 07777));
        snprintf(n, sizeof n, "futimens:%s", DEVS[i]);
        REPORT(n, syscall(SYS_utimensat, fd, NULL, old, 0));
        close((int)fd);
    }
    REPORT("rename_null", syscall(SYS_renameat, AT_FDCWD, "/dev/null", AT_FDCWD, "/dev/null2"));
    REPORT("unlink_zero", syscall(SYS_unlinkat, AT_FDCWD, "/dev/zero", 0));
    REPORT("link_null", syscall(SYS_linkat, AT_FDCWD, "/dev/null", AT_FDCWD, "/tmp/null-link", 0));
    REPORT("mknod_in_dev", syscall(SYS_mknodat, AT_FDCWD, "/dev/motte-pwned", S_IFIFO | 0666, 0));
    REPORT("write_null", write((int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY, 0), "x", 1));
    printf("DONE\n");
    return 0;
}
