/* symlink_escape: plants symlinks that point outside the sandbox's root in
 * a directory it may write (the writable layer /tmp, a rw host mount), then
 * reads through them: absolute ("/root", "/etc/shadow", a host secret's real
 * host path) and relative ("../../../../etc/shadow", "../../../../root").
 * Usage: symlink_escape DIR TARGET[::SUFFIX]...  For each TARGET it creates
 * DIR/lN -> TARGET and probes DIR/lN and, with a SUFFIX, DIR/lN/SUFFIX; it
 * also chdirs through the link and climbs with "../../../../..".
 *
 * What should stop it: symlinks are resolved by the library OS with
 * RESOLVE_IN_ROOT from the sandbox's root, so an absolute target means the
 * sandbox's "/" and `..` never climbs above it; a relative target stays
 * inside as well. On a rw host mount the link itself lands on the host (it
 * is just a file there), but following it inside must not reach the host.
 */
#include "hostile.h"

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *dir = argv[1];
    for (int i = 2; i < argc; i++) {
        char target[4096], link[4096], sub[8192], name[8400];
        const char *suffix = NULL;
        snprintf(target, sizeof target, "%s", argv[i]);
        char *sep = strstr(target, "::");
        if (sep) {
            *sep = 0;
            suffix = sep + 2;
        }
        snprintf(link, sizeof link, "%s/l%d", dir, i);
        snprintf(name, sizeof name, "symlink:%s->%s", link, target);
        REPORT(name, syscall(SYS_symlinkat, target, AT_FDCWD, link));
        probe(link);
        if (suffix) {
            snprintf(sub, sizeof sub, "%s/%s", link, suffix);
            probe(sub);
        }
        /* into the link, then climb from there */
        snprintf(name, sizeof name, "chdir:%s", link);
        errno = 0;
        long r = syscall(SYS_chdir, link);
        report(name, r, errno);
        if (r == 0) {
            probe("../../../../../../../../etc/shadow");
            probe("../../../../../../../../root");
            if (suffix)
                probe(suffix);
            syscall(SYS_chdir, "/");
        }
    }
    /* a symlink loop and a link through a link */
    char a[4096], b[4096], c[4096];
    snprintf(a, sizeof a, "%s/loopa", dir);
    snprintf(b, sizeof b, "%s/loopb", dir);
    snprintf(c, sizeof c, "%s/chain", dir);
    syscall(SYS_symlinkat, b, AT_FDCWD, a);
    syscall(SYS_symlinkat, a, AT_FDCWD, b);
    REPORT("open:loop", syscall(SYS_openat, AT_FDCWD, a, O_RDONLY, 0));
    char up[4096];
    snprintf(up, sizeof up, "%s/l2", dir);
    syscall(SYS_symlinkat, up, AT_FDCWD, c); /* chain -> l2 -> first target */
    probe(c);
    printf("DONE\n");
    return 0;
}
