/* proc_links: the magic links of /proc and their /dev aliases as ways out:
 * reads every link (/proc/self/{exe,cwd,root}, /proc/self/fd/N for stdio,
 * a directory, a /proc directory, a memfd; /proc/thread-self,
 * /proc/self/task/N/..., /proc/1/..., /dev/fd/N, /dev/stdin...) and every
 * text file that could name host paths (mountinfo, mounts, maps, cgroup,
 * environ, cmdline, status, stat), and walks through them:
 * /proc/self/root/../.., /proc/self/cwd/../.. from a bind mount,
 * /proc/self/fd/D/../../.. (D a directory fd of /usr/share),
 * /proc/self/fd/P/.. (P a /proc directory fd), /proc/self/exe/..,
 * /proc/1/root/proc/1/root/..., /dev/fd/D/../../etc/shadow, /dev/stdin/...
 * The host checks that nothing it prints names a host path (the host
 * directory mounted at /t, the host's own working directory, /work, /root).
 * Usage: proc_links
 *
 * What should stop it: /proc is the library OS's: `root` is "/", `cwd` and
 * `fd/N` name paths in the sandbox (a stream from outside the view shows no
 * host path), mountinfo lists the view's mount points, and every walk out of
 * /proc resumes in the sandbox's root.
 */
#include "hostile.h"

static void readlink_of(const char *path)
{
    char buf[4096];
    errno = 0;
    long n = syscall(SYS_readlinkat, AT_FDCWD, path, buf, sizeof buf);
    char name[512];
    snprintf(name, sizeof name, "readlink:%s", path);
    report(name, n, errno);
    if (n > 0)
        hexline("LINK", path, (unsigned char *)buf, n);
}

int main(void)
{
    syscall(SYS_chdir, "/t");
    long dfd = syscall(SYS_openat, AT_FDCWD, "/usr/share", O_RDONLY | O_DIRECTORY, 0);
    long pfd = syscall(SYS_openat, AT_FDCWD, "/proc/self", O_RDONLY | O_DIRECTORY, 0);
    long mfd = syscall(SYS_memfd_create, "proc-links", 0);
    char p[256];
    static const char *links[] = {"/proc/self/exe", "/proc/self/cwd", "/proc/self/root", "/proc/self/fd/0",
                                  "/proc/self/fd/1", "/proc/self/fd/2", "/proc/thread-self", "/proc/self",
                                  "/proc/1/exe", "/proc/1/cwd", "/proc/1/root", "/proc/mounts", "/proc/net",
                                  "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/ptmx"};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        readlink_of(links[i]);
    long fds[] = {dfd, pfd, mfd};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "/proc/self/fd/%ld", fds[i]);
        readlink_of(p);
        snprintf(p, sizeof p, "/dev/fd/%ld", fds[i]);
        readlink_of(p);
    }
    snprintf(p, sizeof p, "/proc/self/task/%ld/exe", (long)getpid());
    readlink_of(p);
    snprintf(p, sizeof p, "/proc/self/task/%ld/cwd", (long)getpid());
    readlink_of(p);
    static const char *files[] = {"/proc/self/mountinfo", "/proc/self/mounts", "/proc/mounts", "/proc/self/maps",
                                  "/proc/self/cgroup",    "/proc/self/environ", "/proc/self/cmdline",
                                  "/proc/self/status",    "/proc/self/stat",    "/proc/1/mountinfo",
                                  "/proc/self/exe",       "/proc/cmdline",      "/proc/version"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        probe(files[i]);
    static const char *walks[] = {
        "/proc/self/root/../../../etc/shadow", "/proc/self/root/../../..", "/proc/self/cwd/../../../..",
        "/proc/self/cwd/../../../etc/shadow",  "/proc/self/exe/..",        "/proc/self/exe/../../..",
        "/proc/1/root/proc/1/root/etc/passwd", "/proc/1/root/proc/1/cwd/../../..",
        "/proc/thread-self/root/../../..",     "/dev/stdin/..",            "/dev/fd/0/../..",
        "/proc/self/fd/0/../../..",
    };
    for (size_t i = 0; i < sizeof walks / sizeof walks[0]; i++)
        probe(walks[i]);
    snprintf(p, sizeof p, "/proc/self/fd/%ld/../../../..", dfd);
    probe(p);
    snprintf(p, sizeof p, "/proc/self/fd/%ld/../../../etc/shadow", dfd);
    probe(p);
    snprintf(p, sizeof p, "/dev/fd/%ld/../../../etc/shadow", dfd);
    probe(p);
    snprintf(p, sizeof p, "/proc/self/fd/%ld/..", pfd);
    probe(p);
    snprintf(p, sizeof p, "/proc/self/fd/%ld/root/etc/shadow", pfd);
    probe(p);
    snprintf(p, sizeof p, "/proc/self/task/%ld/root/../../..", (long)getpid());
    probe(p);
    /* relative to a /proc directory fd */
    static const char *rel[] = {"..", "../..", "root", "root/../../..", "cwd/../../..", "fd"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(p, sizeof p, "@procfd/%s", rel[i]);
        errno = 0;
        long fd = syscall(SYS_openat, pfd, rel[i], O_RDONLY | O_NONBLOCK, 0);
        char name[300];
        snprintf(name, sizeof name, "open:%s", p);
        report(name, fd, errno);
        if (fd >= 0) {
            struct stat st;
            if (fstat((int)fd, &st) == 0 && S_ISDIR(st.st_mode))
                list_fd(p, (int)fd);
            else
                dump_fd(p, (int)fd);
            close((int)fd);
        }
    }
    REPORT("fchdir_procfd", syscall(SYS_fchdir, pfd));
    printf("DONE\n");
    return 0;
}
