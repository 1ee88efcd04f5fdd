/* long_paths: paths at and past every length limit: exactly PATH_MAX-1
 * characters (legal), PATH_MAX and 64 KiB and 1 MiB (ENAMETOOLONG), with the
 * extra length made of "/" or "/." padding in front of /etc/passwd or of
 * "/.." chains climbing towards /etc/shadow; a 1 MiB buffer with no NUL at
 * all; a component of NAME_MAX and NAME_MAX+1 bytes; symlink targets of
 * PATH_MAX-1 and PATH_MAX bytes (and following the long one); an xattr
 * name past XATTR_NAME_MAX; and a directory tree nested so deep (2100
 * levels) that its own path is longer than PATH_MAX, from where it asks
 * getcwd, opens relative names and climbs out with a "../" chain longer than
 * PATH_MAX. The library OS must answer every one with an errno (or the
 * file) and keep serving: "FINAL_OK" comes from a normal open at the end.
 * Usage: long_paths
 *
 * What should stop a failure: paths are copied with a PATH_MAX bound
 * (ENAMETOOLONG beyond), every handler error is an errno, and resolution
 * stays inside the root whatever the length.
 */
#include "hostile.h"
#include <sys/mman.h>
#include <sys/xattr.h>

#define PATH_MAX_ 4096

static char *padded(const char *pad, size_t total, const char *tail)
{
    size_t tl = strlen(tail), pl = strlen(pad);
    char *p = malloc(total + 1);
    size_t at = 0;
    while (at + pl + tl <= total)
        at += (memcpy(p + at, pad, pl), pl);
    while (at + tl < total)
        p[at++] = '/';
    memcpy(p + at, tail, tl);
    p[total] = 0;
    return p;
}

static void try_len(const char *label, const char *pad, size_t total, const char *tail)
{
    char *p = padded(pad, total, tail);
    char name[128];
    snprintf(name, sizeof name, "open:%s", label);
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY, 0);
    report(name, fd, errno);
    if (fd >= 0) {
        char l[160];
        snprintf(l, sizeof l, "%s", label);
        dump_fd(l, (int)fd);
        close((int)fd);
    }
    struct stat st;
    snprintf(name, sizeof name, "stat:%s", label);
    REPORT(name, syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0));
    free(p);
}

int main(void)
{
    try_len("slashes_4095", "/", PATH_MAX_ - 1, "/etc/passwd");
    try_len("slashes_4096", "/", PATH_MAX_, "/etc/passwd");
    try_len("dots_4095", "/.", PATH_MAX_ - 1, "/etc/passwd");
    try_len("dotdot_4095_shadow", "/..", PATH_MAX_ - 1, "/etc/shadow");
    try_len("dotdot_4095_passwd", "/..", PATH_MAX_ - 1, "/etc/passwd");
    try_len("dotdot_4096_shadow", "/..", PATH_MAX_, "/etc/shadow");
    try_len("slashes_65536", "/", 65536, "/etc/passwd");
    try_len("dotdot_1M_shadow", "/..", 1 << 20, "/etc/shadow");
    /* no NUL anywhere in a 1 MiB buffer */
    char *nonul = malloc(1 << 20);
    memset(nonul, 'a', 1 << 20);
    nonul[0] = '/';
    REPORT("open:no_nul_1M", syscall(SYS_openat, AT_FDCWD, nonul, O_RDONLY, 0));
    char comp[300];
    memset(comp, 'n', sizeof comp);
    memcpy(comp, "/tmp/", 5);
    comp[5 + 255] = 0;
    REPORT("creat:name_255", syscall(SYS_openat, AT_FDCWD, comp, O_CREAT | O_WRONLY, 0644));
    comp[5 + 255] = 'n';
    comp[5 + 256] = 0;
    REPORT("creat:name_256", syscall(SYS_openat, AT_FDCWD, comp, O_CREAT | O_WRONLY, 0644));
    char *t4095 = padded("/", PATH_MAX_ - 1, "/etc/passwd");
    char *t4096 = padded("/", PATH_MAX_, "/etc/passwd");
    REPORT("symlink:target_4095", syscall(SYS_symlinkat, t4095, AT_FDCWD, "/tmp/longlink"));
    REPORT("symlink:target_4096", syscall(SYS_symlinkat, t4096, AT_FDCWD, "/tmp/longlink2"));
    errno = 0;
    long lf = syscall(SYS_openat, AT_FDCWD, "/tmp/longlink", O_RDONLY, 0);
    report("open:through_longlink", lf, errno);
    char xname[400];
    memset(xname, 'x', sizeof xname);
    memcpy(xname, "user.", 5);
    xname[300] = 0;
    REPORT("setxattr:name_300", syscall(SYS_setxattr, "/tmp/longlink", xname, "v", 1, 0));
    REPORT("getxattr:name_300", syscall(SYS_getxattr, "/etc/passwd", xname, NULL, 0));

    /* a tree deeper than PATH_MAX */
    REPORT("chdir_tmp", syscall(SYS_chdir, "/tmp"));
    int depth = 0;
    for (; depth < 2100; depth++) {
        if (syscall(SYS_mkdirat, AT_FDCWD, "d", 0755) < 0 && errno != EEXIST)
            break;
        if (syscall(SYS_chdir, "d") < 0)
            break;
    }
    count("depth_reached", depth);
    char cwd[8192];
    errno = 0;
    long gc = syscall(SYS_getcwd, cwd, sizeof cwd);
    report("getcwd_deep", gc, errno);
    REPORT("creat:deep_relative", syscall(SYS_openat, AT_FDCWD, "leaf", O_CREAT | O_WRONLY, 0644));
    REPORT("stat:deep_dot", syscall(SYS_newfstatat, AT_FDCWD, ".", &(struct stat){0}, 0));
    char *up = padded("../", 3 * 2200, "etc/shadow");
    REPORT("open:deep_climb_past_max", syscall(SYS_openat, AT_FDCWD, up, O_RDONLY, 0));
    char *up2 = padded("../", 3 * 1300, "etc/passwd");
    REPORT("open:deep_climb_1300", syscall(SYS_openat, AT_FDCWD, up2, O_RDONLY, 0));
    REPORT("chdir_root", syscall(SYS_chdir, "/"));
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
    report("final_open", fd, errno);
    if (fd >= 0)
        printf("FINAL_OK\n");
    return 0;
}
