/* race_path: time-of-check/time-of-use on a path argument. A second thread
 * rewrites the path buffer, as fast as it can, between a harmless file of
 * the sandbox (/tmp/race-harmless) and each target (a host secret's host
 * path, "../../../../root/x", "/proc/self/root/../../<host path>",
 * "/proc/1/cwd/../../..."), while the main thread calls, in a loop for the
 * given time, every path-taking call the library OS serves or checks:
 * open, openat O_PATH (answered by letting the kernel run it), stat, lstat,
 * statx, access, readlink, chdir and getxattr/statfs/inotify_add_watch
 * (checked, then run by the kernel, which reads the path again), truncate,
 * utimensat, chmod. Whatever it opens or stats that is not the harmless
 * file is shown ("DATA race:<op> <hex>", "OTHER <op> <ino> <size>").
 * Usage: race_path SECONDS TARGET...
 *
 * What should stop it: the library OS reads a path once and acts on that
 * copy; the calls it hands back to the kernel are resolved by the kernel in
 * the sandbox's own root, where host paths do not exist. Nothing it reads
 * may hold a host secret, and the host's files keep their mode and times.
 */
#include "race.h"
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>

#define HARMLESS "/tmp/race-harmless"

static char pathbuf[4096];
static ino_t harmless_ino;
static unsigned long ok[32], other[32];
static int shown;

enum { OPEN, OPATH, STAT, LSTAT, STATX, ACCESS, READLINK, CHDIR, GETXATTR, STATFS, INOTIFY, TRUNCATE, UTIMENS, CHMOD, NOPS };
static const char *NAMES[NOPS] = {"open",     "opath",  "stat",    "lstat",    "statx",   "access",  "readlink",
                                  "chdir",    "getxattr", "statfs", "inotify", "truncate", "utimensat", "chmod"};

static void seen_other(int op, const struct stat *st)
{
    other[op]++;
    if (shown++ < 20) {
        printf("OTHER\t%s\t%lu\t%ld\n", NAMES[op], (unsigned long)st->st_ino, (long)st->st_size);
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    double secs = atof(argv[1]);
    int hf = (int)syscall(SYS_openat, AT_FDCWD, HARMLESS, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(hf, "HARMLESS\n", 9);
    close(hf);
    struct stat st;
    stat(HARMLESS, &st);
    harmless_ino = st.st_ino;
    chdir("/tmp");
    int ifd = inotify_init1(IN_NONBLOCK);

    struct flipper f = {0};
    for (int i = 2; i < argc && f.n < MAX_VARIANTS - 1; i++) {
        flipper_add_str(&f, HARMLESS);
        flipper_add_str(&f, argv[i]);
    }
    strcpy(pathbuf, HARMLESS);
    flipper_start(&f, pathbuf);
    unsigned long iters = 0;
    double end = mono() + secs;
    while (mono() < end) {
        for (int op = 0; op < NOPS; op++) {
            long r = -1;
            char buf[256];
            switch (op) {
            case OPEN:
            case OPATH:
                r = syscall(SYS_openat, AT_FDCWD, pathbuf, op == OPEN ? O_RDONLY | O_NONBLOCK : O_PATH, 0);
                if (r >= 0) {
                    if (fstat((int)r, &st) == 0 && st.st_ino != harmless_ino)
                        seen_other(op, &st);
                    if (op == OPEN) {
                        long n = read((int)r, buf, sizeof buf);
                        if (n > 0 && (n != 9 || memcmp(buf, "HARMLESS\n", 9)) && shown++ < 40)
                            hexline("DATA", "race:open", (unsigned char *)buf, n);
                    }
                    close((int)r);
                }
                break;
            case STAT:
            case LSTAT:
                r = syscall(SYS_newfstatat, AT_FDCWD, pathbuf, &st, op == LSTAT ? AT_SYMLINK_NOFOLLOW : 0);
                if (r == 0 && st.st_ino != harmless_ino)
                    seen_other(op, &st);
                break;
            case STATX: {
                struct statx sx;
                r = syscall(SYS_statx, AT_FDCWD, pathbuf, 0, STATX_INO, &sx);
                if (r == 0 && sx.stx_ino != harmless_ino) {
                    st.st_ino = sx.stx_ino;
                    st.st_size = (off_t)sx.stx_size;
                    seen_other(op, &st);
                }
                break;
            }
            case ACCESS:
                r = syscall(SYS_faccessat, AT_FDCWD, pathbuf, R_OK);
                break;
            case READLINK:
                r = syscall(SYS_readlinkat, AT_FDCWD, pathbuf, buf, sizeof buf);
                if (r > 0 && shown++ < 40)
                    hexline("LINK", "race:readlink", (unsigned char *)buf, r);
                break;
            case CHDIR:
                r = syscall(SYS_chdir, pathbuf);
                if (r == 0) {
                    char cwd[4096];
                    if (getcwd(cwd, sizeof cwd) && strcmp(cwd, "/tmp") && shown++ < 40)
                        printf("CWD\t%s\n", cwd);
                    chdir("/tmp");
                }
                break;
            case GETXATTR:
                r = syscall(SYS_getxattr, pathbuf, "user.race", buf, sizeof buf);
                if (r == -1 && errno == ENODATA)
                    r = 0;
                break;
            case STATFS: {
                struct statfs sf;
                r = syscall(SYS_statfs, pathbuf, &sf);
                break;
            }
            case INOTIFY:
                r = syscall(SYS_inotify_add_watch, ifd, pathbuf, IN_ALL_EVENTS);
                if (r >= 0)
                    inotify_rm_watch(ifd, (int)r);
                break;
            case TRUNCATE:
                r = syscall(SYS_truncate, pathbuf, 9);
                break;
            case UTIMENS:
                r = syscall(SYS_utimensat, AT_FDCWD, pathbuf, NULL, 0);
                break;
            case CHMOD:
                r = syscall(SYS_fchmodat, AT_FDCWD, pathbuf, 0644);
                break;
            }
            if (r >= 0)
                ok[op]++;
        }
        iters++;
    }
    flipper_stop(&f);
    count("iterations", iters);
    count("flips", f.flips);
    for (int op = 0; op < NOPS; op++) {
        char n[64];
        snprintf(n, sizeof n, "%s_ok", NAMES[op]);
        count(n, ok[op]);
        snprintf(n, sizeof n, "%s_other", NAMES[op]);
        count(n, other[op]);
    }
    printf("DONE\n");
    return 0;
}
