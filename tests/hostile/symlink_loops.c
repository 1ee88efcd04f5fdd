/* symlink_loops: symlink cycles and chains that a resolver following links
 * itself must bound: a link to itself, a two-link cycle, chains of 40 links
 * (legal) and 41 (ELOOP), "up -> ../tmp/up", loops that pass through /proc
 * and come back ("pl -> /proc/self/root/tmp/pl", "pc -> /proc/self/cwd/pc",
 * "pf -> /proc/self/fd/D/pf" with D a directory fd on /tmp), a link into
 * /proc/self/root/proc/self/root/... nested 300 times, and a cycle through a
 * directory ("dir/sub -> ..", walked 300 deep). Each is opened, stat'ed,
 * chdir'd into, executed, bound as a unix socket and created through
 * (O_CREAT); then FINAL_OK proves the library OS still serves.
 * Usage: symlink_loops
 *
 * What should stop it: at most 40 symlinks per resolution (ELOOP beyond),
 * counted across the whole walk, including the hops through /proc; every
 * error is an errno, never an internal failure (EIO) of the library OS.
 */
#include "hostile.h"
#include <sys/socket.h>
#include <sys/un.h>

static void attack(const char *label, const char *path)
{
    char n[512];
    struct stat st;
    snprintf(n, sizeof n, "open:%s", label);
    REPORT(n, syscall(SYS_openat, AT_FDCWD, path, O_RDONLY, 0));
    snprintf(n, sizeof n, "stat:%s", label);
    REPORT(n, syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0));
    snprintf(n, sizeof n, "creat:%s", label);
    REPORT(n, syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_WRONLY, 0644));
    snprintf(n, sizeof n, "chdir:%s", label);
    REPORT(n, syscall(SYS_chdir, path));
    syscall(SYS_chdir, "/tmp");
    snprintf(n, sizeof n, "execve:%s", label);
    char *av[] = {"x", NULL};
    REPORT(n, syscall(SYS_execve, path, av, NULL));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(n, sizeof n, "connect:%s", label);
    REPORT(n, connect(s, (struct sockaddr *)&a, sizeof a));
    close(s);
}

int main(void)
{
    syscall(SYS_chdir, "/tmp");
    symlink("self", "/tmp/self");
    symlink("b", "/tmp/a");
    symlink("a", "/tmp/b");
    char name[64], target[64];
    for (int i = 1; i < 41; i++) { /* c1 -> c2 -> ... -> c41 -> /etc/hostname */
        snprintf(name, sizeof name, "/tmp/c%d", i);
        snprintf(target, sizeof target, "c%d", i + 1);
        symlink(target, name);
    }
    symlink("/etc/hostname", "/tmp/c41");
    symlink("../tmp/up", "/tmp/up");
    symlink("/proc/self/root/tmp/pl", "/tmp/pl");
    symlink("/proc/self/cwd/pc", "/tmp/pc");
    long d = syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY, 0);
    snprintf(target, sizeof target, "/proc/self/fd/%ld/pf", d);
    symlink(target, "/tmp/pf");
    static char deep[8192];
    deep[0] = 0;
    for (int i = 0; i < 300 && strlen(deep) < 4000; i++)
        strcat(deep, "/proc/self/root");
    strcat(deep, "/etc/hostname");
    mkdir("/tmp/dir", 0755);
    symlink("..", "/tmp/dir/sub");
    static char updown[8192] = "/tmp/dir";
    for (int i = 0; i < 300 && strlen(updown) < 4000; i++)
        strcat(updown, "/sub/dir");

    attack("self", "/tmp/self");
    attack("a_b_cycle", "/tmp/a");
    attack("chain41", "/tmp/c1");
    attack("chain40", "/tmp/c2");
    attack("up", "/tmp/up");
    attack("up_sub", "/tmp/up/x");
    attack("proc_root_loop", "/tmp/pl");
    attack("proc_root_loop_sub", "/tmp/pl/x");
    attack("proc_cwd_loop", "/tmp/pc");
    attack("proc_fd_loop", "/tmp/pf");
    attack("proc_root_nested", deep);
    attack("dir_sub_updown", updown);
    REPORT("lstat:self", syscall(SYS_newfstatat, AT_FDCWD, "/tmp/self", &(struct stat){0}, AT_SYMLINK_NOFOLLOW));
    REPORT("unlink:self", syscall(SYS_unlinkat, AT_FDCWD, "/tmp/self", 0));
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
    report("final_open", fd, errno);
    if (fd >= 0)
        printf("FINAL_OK\n");
    return 0;
}
