/* open_paths: tries to read host files and list host directories through
 * raw openat / newfstatat / readlinkat / getdents64 on every path it is
 * given: absolute host paths (/etc/shadow, /root, /work, /opt, /var, the
 * host's cwd...), `..` chains that climb above the root ("/../../etc/shadow",
 * "../../../../root", "/proc/self/root/../..", "/tmp/../../.."), and host
 * symlinks the test planted in a mounted directory.
 * An argument "@cd=DIR" first changes directory (relative chains), and
 * "@fd=DIR" makes the following paths relative to a directory fd on DIR.
 *
 * What should stop it: the sandbox's kernel root is a private tmpfs holding
 * only the view (pivot_root, old root detached), and the library OS resolves
 * every path with openat2(RESOLVE_IN_ROOT) from that root, so `..` and
 * absolute symlinks stop at the sandbox's "/". /etc/shadow is whited out of
 * the /etc overlay. Nothing it prints may hold a host secret.
 */
#include "hostile.h"

int main(int argc, char **argv)
{
    int dirfd = AT_FDCWD;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "@cd=", 4)) {
            REPORT(argv[i], syscall(SYS_chdir, argv[i] + 4));
            continue;
        }
        if (!strncmp(argv[i], "@fd=", 4)) {
            errno = 0;
            long fd = syscall(SYS_openat, AT_FDCWD, argv[i] + 4, O_RDONLY | O_DIRECTORY, 0);
            report(argv[i], fd, errno);
            dirfd = fd < 0 ? AT_FDCWD : (int)fd;
            continue;
        }
        probe_at(dirfd, argv[i]);
    }
    printf("DONE\n");
    return 0;
}
