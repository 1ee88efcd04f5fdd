/* race_fsmod: time-of-check/time-of-use on the path of the calls that change
 * the file tree. A second thread rewrites the destination path between a
 * harmless name in /tmp and each target (host paths: a name in a host
 * directory, in the host's /var/tmp, the same through "../../..",
 * "/proc/self/root/../..", "/proc/1/cwd/../../.."; a name in the read-only
 * mount of the programs) while the main thread loops: creat+write, mkdir,
 * mknod (FIFO), symlink, link, rename, renameat2 RENAME_EXCHANGE, setxattr
 * (checked, then re-read by the kernel), chmod 0777, and unlink/rmdir of
 * whatever it made. Afterwards it lists /tmp.
 * Usage: race_fsmod SECONDS TARGET...
 *
 * What should stop it: paths are read once by the library OS and resolved
 * in the sandbox's root; the kernel re-reads setxattr's path, but in the same
 * root. No host path exists there: nothing may appear on the host, and the
 * read-only mount must not change.
 */
#include "race.h"
#include <sys/stat.h>
#include <sys/xattr.h>

#define HARMLESS "/tmp/race-dst"

static char pathbuf[4096];

enum { CREAT, MKDIR, MKNOD, SYMLINK, LINK, RENAME, EXCHANGE, SETXATTR, CHMOD, UNLINK, RMDIR, NOPS };
static const char *NAMES[NOPS] = {"creat",    "mkdir",    "mknod", "symlink", "link", "rename",
                                  "exchange", "setxattr", "chmod", "unlink",  "rmdir"};

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    double secs = atof(argv[1]);
    struct flipper f = {0};
    for (int i = 2; i < argc && f.n < MAX_VARIANTS - 1; i++) {
        flipper_add_str(&f, HARMLESS);
        flipper_add_str(&f, argv[i]);
    }
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/race-linksrc", O_CREAT | O_WRONLY, 0644);
    close(fd);
    strcpy(pathbuf, HARMLESS);
    flipper_start(&f, pathbuf);
    unsigned long ok[NOPS] = {0}, iters = 0;
    double end = mono() + secs;
    while (mono() < end) {
        for (int op = 0; op < NOPS; op++) {
            long r = -1;
            switch (op) {
            case CREAT:
                r = syscall(SYS_openat, AT_FDCWD, pathbuf, O_CREAT | O_WRONLY | O_TRUNC, 0644);
                if (r >= 0) {
                    write((int)r, "RACE-CREATED\n", 13);
                    close((int)r);
                }
                break;
            case MKDIR:
                r = syscall(SYS_mkdirat, AT_FDCWD, pathbuf, 0755);
                break;
            case MKNOD:
                r = syscall(SYS_mknodat, AT_FDCWD, pathbuf, S_IFIFO | 0644, 0);
                break;
            case SYMLINK:
                r = syscall(SYS_symlinkat, "/etc/passwd", AT_FDCWD, pathbuf);
                break;
            case LINK:
                r = syscall(SYS_linkat, AT_FDCWD, "/tmp/race-linksrc", AT_FDCWD, pathbuf, 0);
                break;
            case RENAME: {
                int s = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/race-src", O_CREAT | O_WRONLY, 0644);
                if (s >= 0)
                    close(s);
                r = syscall(SYS_renameat, AT_FDCWD, "/tmp/race-src", AT_FDCWD, pathbuf);
                break;
            }
            case EXCHANGE:
                r = syscall(SYS_renameat2, AT_FDCWD, "/tmp/race-linksrc", AT_FDCWD, pathbuf, 2 /* RENAME_EXCHANGE */);
                if (r == 0) /* swap back, whatever the buffer holds now */
                    syscall(SYS_renameat2, AT_FDCWD, "/tmp/race-linksrc", AT_FDCWD, HARMLESS, 2);
                break;
            case SETXATTR:
                r = syscall(SYS_setxattr, pathbuf, "user.race", "x", 1, 0);
                break;
            case CHMOD:
                r = syscall(SYS_fchmodat, AT_FDCWD, pathbuf, 0777);
                break;
            case UNLINK:
                r = syscall(SYS_unlinkat, AT_FDCWD, pathbuf, 0);
                break;
            case RMDIR:
                r = syscall(SYS_unlinkat, AT_FDCWD, pathbuf, AT_REMOVEDIR);
                break;
            }
            if (r >= 0)
                ok[op]++;
        }
        /* keep the harmless name free for the next round */
        syscall(SYS_unlinkat, AT_FDCWD, HARMLESS, 0);
        syscall(SYS_unlinkat, AT_FDCWD, HARMLESS, AT_REMOVEDIR);
        iters++;
    }
    flipper_stop(&f);
    count("iterations", iters);
    count("flips", f.flips);
    for (int op = 0; op < NOPS; op++) {
        char n[64];
        snprintf(n, sizeof n, "%s_ok", NAMES[op]);
        count(n, ok[op]);
    }
    probe("/tmp");
    printf("DONE\n");
    return 0;
}
