/* virtual_perms: the sandbox's users are virtual (the kernel sees one
 * invoking host user for all of them, the owner of every file of the
 * writable layer); the library OS alone keeps them apart. Started as the
 * sandbox's root, it makes a directory only root may enter (0700) holding
 * a world-readable file, and a program only root may run (a copy of
 * /bin/true, 0700), then becomes uid 1000 and tries: open and stat of the
 * file through the closed directory (a path walk must check search
 * permission on every directory, not only the last component's mode),
 * listing the directory, the file by other ways (a symlink of its own
 * pointing in, a ".." taken after the directory, an O_PATH open, a
 * descriptor of the directory root left open, /proc/self/root), execve of
 * the root-only program (refused), and
 * the same program through fexecve: an O_PATH descriptor (which needs no
 * permission) passed to execveat(fd, "", AT_EMPTY_PATH), which the library
 * OS hands to the kernel; in a child, reporting how it ended ("FEXEC exit N":
 * 100 means execveat returned an error, anything else that it ran). Last,
 * the same fexecve of /bin/true, which uid 1000 may run: "FEXEC_TRUE exit 0"
 * unless the library OS fails the program after such an exec. A 0711
 * directory must stay searchable (its file opens) but not listable. Also:
 * a hard link out of the closed directory, POSIX ACLs (which would open it,
 * or root's /etc/passwd), a user xattr, an inotify watch, connect and bind
 * of unix sockets inside it.
 * Usage: virtual_perms   (run with --user root)
 *
 * What should stop it: the library OS's permission checks must cover what
 * the kernel would check for the virtual credentials: search permission on
 * each directory of a path, and execute permission on whatever file an
 * exec runs, including one named by a descriptor.
 */
#include "hostile.h"
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>

static int copy(const char *from, const char *to, int mode)
{
    int in = (int)syscall(SYS_openat, AT_FDCWD, from, O_RDONLY, 0);
    int out = (int)syscall(SYS_openat, AT_FDCWD, to, O_CREAT | O_WRONLY | O_TRUNC, mode);
    char buf[65536];
    long n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
    return out >= 0 ? 0 : -1;
}

int main(void)
{
    REPORT("setup_mkdir", syscall(SYS_mkdirat, AT_FDCWD, "/tmp/rootonly", 0700));
    int f = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly/readable", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(f, "ROOT-PRIVATE-DIR-CONTENT\n", 25);
    close(f);
    REPORT("setup_copy", copy("/bin/true", "/tmp/rootonly-true", 0700));
    /* a directory others may search but not list: what it holds stays reachable */
    syscall(SYS_mkdirat, AT_FDCWD, "/tmp/passable", 0711);
    f = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/passable/readable", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    close(f);
    /* attributes only root may read: a 0600 file, and a file in the closed directory */
    f = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/private", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    close(f);
    setxattr("/tmp/private", "user.secret", "ROOT-ATTR", 9, 0);
    setxattr("/tmp/rootonly/readable", "user.secret", "ROOT-ATTR", 9, 0);
    /* a unix socket bound inside the closed directory, while still root */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, "/tmp/rootonly/sock");
    bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sa, sizeof sa);
    /* a descriptor of the closed directory, taken while still root */
    long held = syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly", O_PATH | O_DIRECTORY, 0);
    REPORT("drop_to_1000", syscall(SYS_setresuid, 1000, 1000, 1000));
    REPORT("uid_now", syscall(SYS_getuid));
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly/readable", O_RDONLY, 0);
    report("open_through_closed_dir", fd, errno);
    if (fd >= 0)
        dump_fd("/tmp/rootonly/readable", (int)fd);
    struct stat st;
    REPORT("stat_through_closed_dir", syscall(SYS_newfstatat, AT_FDCWD, "/tmp/rootonly/readable", &st, 0));
    REPORT("list_closed_dir", syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly", O_RDONLY | O_DIRECTORY, 0));
    REPORT("chdir_closed_dir", syscall(SYS_chdir, "/tmp/rootonly"));
    /* the same file by other ways through the closed directory: a symlink
     * of uid 1000's own pointing into it, a ".." taken after it, an O_PATH
     * open (which needs no permission on the file, but search on the path),
     * the descriptor root left open, and /proc/self/root */
    REPORT("symlink_made", syscall(SYS_symlinkat, "/tmp/rootonly/readable", AT_FDCWD, "/tmp/into-closed"));
    errno = 0;
    fd = syscall(SYS_openat, AT_FDCWD, "/tmp/into-closed", O_RDONLY, 0);
    report("open_symlink_into_closed", fd, errno);
    if (fd >= 0)
        dump_fd("/tmp/into-closed", (int)fd);
    REPORT("stat_dotdot_after_closed", syscall(SYS_newfstatat, AT_FDCWD, "/tmp/rootonly/../rootonly-true", &st, 0));
    REPORT("opath_through_closed", syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly/readable", O_PATH, 0));
    errno = 0;
    fd = syscall(SYS_openat, held, "readable", O_RDONLY, 0);
    report("open_from_held_dirfd", fd, errno);
    if (fd >= 0)
        dump_fd("held dirfd", (int)fd);
    errno = 0;
    fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/root/tmp/rootonly/readable", O_RDONLY, 0);
    report("open_through_proc_root", fd, errno);
    if (fd >= 0)
        dump_fd("/proc/self/root", (int)fd);
    /* other calls that name a path inside it: a hard link out of it, an
     * ACL that would open it (and one on root's /etc/passwd), an inotify
     * watch, a connect to and a bind of a socket in it, statfs */
    REPORT("link_out_of_closed", syscall(SYS_linkat, AT_FDCWD, "/tmp/rootonly/readable", AT_FDCWD, "/tmp/hl", 0));
    errno = 0;
    fd = syscall(SYS_openat, AT_FDCWD, "/tmp/hl", O_RDONLY, 0);
    report("open_hard_link", fd, errno);
    if (fd >= 0)
        dump_fd("/tmp/hl", (int)fd);
    /* a POSIX ACL granting everyone rwx (user::rwx, group::rwx, other::rwx) */
    static const unsigned char acl[] = {2, 0, 0, 0, 1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff, 4, 0, 7, 0,
                                        0xff, 0xff, 0xff, 0xff, 0x20, 0, 7, 0, 0xff, 0xff, 0xff, 0xff};
    REPORT("acl_on_closed_dir", setxattr("/tmp/rootonly", "system.posix_acl_access", acl, sizeof acl, 0));
    REPORT("acl_on_etc_passwd", setxattr("/etc/passwd", "system.posix_acl_access", acl, sizeof acl, 0));
    REPORT("open_after_acl", syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly/readable", O_RDONLY, 0));
    REPORT("passwd_for_writing", syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_WRONLY, 0));
    REPORT("xattr_user_in_closed", setxattr("/tmp/rootonly/readable", "user.x", "1", 1, 0));
    char attr[64];
    REPORT("getxattr_private_file", getxattr("/tmp/private", "user.secret", attr, sizeof attr));
    REPORT("getxattr_in_closed", getxattr("/tmp/rootonly/readable", "user.secret", attr, sizeof attr));
    REPORT("listxattr_in_closed", listxattr("/tmp/rootonly/readable", attr, sizeof attr));
    REPORT("inotify_in_closed", inotify_add_watch(inotify_init(), "/tmp/rootonly/readable", IN_ALL_EVENTS));
    REPORT("connect_in_closed", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sa, sizeof sa));
    struct sockaddr_un sb = {.sun_family = AF_UNIX};
    strcpy(sb.sun_path, "/tmp/rootonly/mine");
    REPORT("bind_in_closed", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&sb, sizeof sb));
    REPORT("open_through_searchable_dir", syscall(SYS_openat, AT_FDCWD, "/tmp/passable/readable", O_RDONLY, 0));
    REPORT("list_searchable_dir", syscall(SYS_openat, AT_FDCWD, "/tmp/passable", O_RDONLY | O_DIRECTORY, 0));
    char *av[] = {"rootonly-true", NULL};
    REPORT("execve_rootonly", syscall(SYS_execve, "/tmp/rootonly-true", av, NULL));
    errno = 0;
    long opath = syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly-true", O_PATH, 0);
    report("open_opath_rootonly", opath, errno);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        syscall(SYS_execveat, opath, "", av, NULL, AT_EMPTY_PATH);
        _exit(100);
    }
    int status = 0;
    waitpid(c, &status, 0);
    printf("FEXEC\t%s\t%d\n", WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    /* the same with a program uid 1000 may run: it must run, and be served
     * after its exec like after any other (exit 0) */
    errno = 0;
    long tfd = syscall(SYS_openat, AT_FDCWD, "/bin/true", O_PATH, 0);
    report("open_opath_true", tfd, errno);
    fflush(stdout);
    c = fork();
    if (c == 0) {
        char *tav[] = {"true", NULL};
        syscall(SYS_execveat, tfd, "", tav, NULL, AT_EMPTY_PATH);
        _exit(100);
    }
    waitpid(c, &status, 0);
    printf("FEXEC_TRUE\t%s\t%d\n", WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    /* and a plain execve of it by path from a single-threaded child */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        char *tav[] = {"true", NULL};
        syscall(SYS_execve, "/bin/true", tav, NULL);
        _exit(100);
    }
    waitpid(c, &status, 0);
    printf("EXEC_TRUE\t%s\t%d\n", WIFSIGNALED(status) ? "signal" : "exit",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    printf("DONE\n");
    return 0;
}
