/* mount_crossing: paths that cross the sandbox's mount points in the middle
 * (each system directory is an overlay, /tmp, the home and /dev/shm are
 * binds of the scratch tmpfs, /t a bind of a host directory, /dev/pts a
 * devpts, /proc the library OS's own): "/tmp/../usr/../etc/shadow",
 * "/dev/shm/../../etc/shadow", "/t/../etc/shadow", "/usr/bin/../../root",
 * "/dev/pts/../../etc/gshadow"...; `..` taken from a directory fd opened on
 * each mount point and from a working directory inside each; and rename,
 * link and symlink across them. Every `..` of a mount point's root must be
 * the sandbox directory above it (listed: "DENT <path> <name>"), never the
 * host directory the mount came from.
 * Usage: mount_crossing
 *
 * What should stop it: the kernel's root holds only the view, so the parent
 * of every mount point is a directory of that small tmpfs; the library OS
 * resolves with RESOLVE_IN_ROOT; renames and links across mounts are EXDEV
 * (EROFS into the read-only mount).
 */
#include "hostile.h"

static const char *MOUNTS[] = {"/", "/tmp", "/home/user", "/dev/shm", "/dev/pts", "/dev", "/usr", "/usr/bin",
                               "/etc", "/t", "/proc", "/proc/self", "/lib"};

int main(void)
{
    static const char *paths[] = {
        "/tmp/../usr/../etc/shadow", "/usr/../tmp/../etc/shadow", "/dev/shm/../../etc/shadow",
        "/dev/pts/../../etc/gshadow", "/t/../etc/shadow", "/t/../../../root", "/usr/bin/../../root",
        "/usr/lib/../../etc/shadow", "/home/user/../../etc/shadow", "/home/../root", "/etc/ssl/../../root",
        "/proc/self/../../etc/shadow", "/proc/../etc/shadow", "/dev/../proc/../etc/shadow",
        "/tmp/../proc/1/root/etc/shadow", "/lib/../etc/shadow", "/sbin/../root", "/bin/../etc/gshadow",
        "/usr/bin/..", "/t/..", "/dev/shm/..", "/home/user/..", "/tmp/..",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        probe(paths[i]);
    for (size_t i = 0; i < sizeof MOUNTS / sizeof MOUNTS[0]; i++) {
        char label[256];
        errno = 0;
        long d = syscall(SYS_openat, AT_FDCWD, MOUNTS[i], O_RDONLY | O_DIRECTORY, 0);
        snprintf(label, sizeof label, "dirfd:%s", MOUNTS[i]);
        report(label, d, errno);
        if (d >= 0) {
            static const char *rel[] = {"..", "../..", "../../../../../..", "../../../../etc/shadow",
                                        "../../../../root"};
            for (size_t j = 0; j < sizeof rel / sizeof rel[0]; j++) {
                char name[512];
                snprintf(name, sizeof name, "fd(%s)+%s", MOUNTS[i], rel[j]);
                errno = 0;
                long fd = syscall(SYS_openat, (int)d, rel[j], O_RDONLY | O_NONBLOCK, 0);
                char rname[600];
                snprintf(rname, sizeof rname, "open:%s", name);
                report(rname, fd, errno);
                if (fd >= 0) {
                    struct stat st;
                    if (fstat((int)fd, &st) == 0 && S_ISDIR(st.st_mode))
                        list_fd(name, (int)fd);
                    else
                        dump_fd(name, (int)fd);
                    close((int)fd);
                }
            }
            close((int)d);
        }
        snprintf(label, sizeof label, "chdir:%s", MOUNTS[i]);
        errno = 0;
        long r = syscall(SYS_chdir, MOUNTS[i]);
        report(label, r, errno);
        if (r == 0) {
            char cwdlabel[300];
            snprintf(cwdlabel, sizeof cwdlabel, "cwd(%s)+../../..", MOUNTS[i]);
            errno = 0;
            long fd = syscall(SYS_openat, AT_FDCWD, "../../..", O_RDONLY | O_DIRECTORY, 0);
            char rname[400];
            snprintf(rname, sizeof rname, "open:%s", cwdlabel);
            report(rname, fd, errno);
            if (fd >= 0) {
                list_fd(cwdlabel, (int)fd);
                close((int)fd);
            }
            syscall(SYS_chdir, "/");
        }
    }
    int f = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/cross", O_CREAT | O_WRONLY, 0644);
    close(f);
    REPORT("rename_tmp_to_usr", syscall(SYS_renameat, AT_FDCWD, "/tmp/cross", AT_FDCWD, "/usr/cross"));
    REPORT("rename_tmp_to_t", syscall(SYS_renameat, AT_FDCWD, "/tmp/cross", AT_FDCWD, "/t/cross"));
    REPORT("rename_tmp_to_home", syscall(SYS_renameat, AT_FDCWD, "/tmp/cross", AT_FDCWD, "/home/user/cross"));
    REPORT("link_t_to_tmp", syscall(SYS_linkat, AT_FDCWD, "/t/mount_crossing", AT_FDCWD, "/tmp/crosslink", 0));
    REPORT("link_etc_to_tmp", syscall(SYS_linkat, AT_FDCWD, "/etc/passwd", AT_FDCWD, "/tmp/crosslink2", 0));
    REPORT("rename_t_out", syscall(SYS_renameat, AT_FDCWD, "/t/mount_crossing", AT_FDCWD, "/tmp/moved"));
    REPORT("rename_mountpoint_tmp", syscall(SYS_renameat, AT_FDCWD, "/tmp", AT_FDCWD, "/tmp2"));
    REPORT("rmdir_mountpoint_t", syscall(SYS_unlinkat, AT_FDCWD, "/t", AT_REMOVEDIR));
    REPORT("symlink_in_root", syscall(SYS_symlinkat, "/", AT_FDCWD, "/escape"));
    printf("DONE\n");
    return 0;
}
