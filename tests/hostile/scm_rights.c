/* scm_rights: passes descriptors between two sandbox processes over a unix
 * socket (SCM_RIGHTS) and tries to reach host objects through what arrives:
 * a directory fd of "/", of /usr/share and of /proc (the library OS's
 * /proc directories are real directories kept outside the sandbox's root),
 * an O_PATH fd of /etc, a read-only fd of a file on a read-only host mount,
 * the host pipes that are its stdout and stderr, a /proc file, an epoll and
 * an eventfd, and the socket itself (a unix socket in flight inside another
 * one, left for the kernel's garbage collector). The receiver, for each fd:
 * what /proc/self/fd/N says it is, getdents64 on it, openat(fd, "..",
 * "../../../..", "../../../../etc/shadow"), fchdir into it and climb, a
 * re-open through /proc/self/fd/N for writing, write(2), a shared writable
 * mmap, fchmod and fsetxattr. Also 254 fds in one message (past SCM_MAX_FD).
 * Usage: scm_rights RO_FILE
 *
 * What should stop it: a passed fd is only another number for an object
 * the sender already held; every name-based call on it goes through the
 * library OS, which resolves from the sandbox's root (a /proc directory's
 * ".." is /proc's parent, "/"), refuses fchdir into /proc directories and
 * never re-opens a host stream with more access than it was given; the
 * kernel keeps a read-only fd read-only.
 */
#include "hostile.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define NFDS 11
static const char *LABELS[NFDS] = {"root", "usrshare", "procdir", "opath_etc", "rofile", "stdout",
                                   "stderr", "procfile", "epoll", "eventfd", "socket"};

static void send_fds(int s, int *fds, int n)
{
    char dummy = 'x';
    struct iovec iov = {&dummy, 1};
    union {
        struct cmsghdr h;
        unsigned char raw[CMSG_SPACE(sizeof(int) * 260)];
    } c;
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = c.raw;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    c.h.cmsg_level = SOL_SOCKET;
    c.h.cmsg_type = SCM_RIGHTS;
    c.h.cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(&c.h), fds, sizeof(int) * n);
    char name[64];
    snprintf(name, sizeof name, "sendmsg_%d_fds", n);
    REPORT(name, sendmsg(s, &m, 0));
}

static int recv_fds(int s, int *fds, int max)
{
    char dummy;
    struct iovec iov = {&dummy, 1};
    union {
        struct cmsghdr h;
        unsigned char raw[CMSG_SPACE(sizeof(int) * 260)];
    } c;
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = c.raw;
    m.msg_controllen = sizeof c.raw;
    if (recvmsg(s, &m, 0) < 0)
        return -1;
    int n = 0;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
        if (h->cmsg_type == SCM_RIGHTS) {
            int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k && n < max; i++)
                fds[n++] = ((int *)CMSG_DATA(h))[i];
        }
    return n;
}

static void explore(const char *label, int fd)
{
    char name[256], p[64], buf[512];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    long n = syscall(SYS_readlinkat, AT_FDCWD, p, buf, sizeof buf - 1);
    if (n > 0) {
        snprintf(name, sizeof name, "is:%s", label);
        hexline("LINK", name, (unsigned char *)buf, n);
    }
    snprintf(name, sizeof name, "getdents:%s", label);
    errno = 0;
    long dn = list_fd(name, fd);
    report(name, dn, errno);
    static const char *rel[] = {"..", "../../../..", "../../../../etc/shadow", "../../../../root"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        snprintf(name, sizeof name, "openat:%s:%s", label, rel[i]);
        errno = 0;
        long f = syscall(SYS_openat, fd, rel[i], O_RDONLY | O_NONBLOCK, 0);
        report(name, f, errno);
        if (f >= 0) {
            struct stat st;
            if (fstat((int)f, &st) == 0 && S_ISDIR(st.st_mode))
                list_fd(name, (int)f);
            else
                dump_fd(name, (int)f);
            close((int)f);
        }
    }
    snprintf(name, sizeof name, "fchdir:%s", label);
    errno = 0;
    long r = syscall(SYS_fchdir, fd);
    report(name, r, errno);
    if (r == 0) {
        snprintf(name, sizeof name, "cwdclimb:%s", label);
        errno = 0;
        long f = syscall(SYS_openat, AT_FDCWD, "../../../../..", O_RDONLY | O_DIRECTORY, 0);
        report(name, f, errno);
        if (f >= 0) {
            list_fd(name, (int)f);
            close((int)f);
        }
        syscall(SYS_chdir, "/");
    }
    snprintf(name, sizeof name, "reopen_rdwr:%s", label);
    REPORT(name, syscall(SYS_openat, AT_FDCWD, p, O_RDWR, 0));
    snprintf(name, sizeof name, "write:%s", label);
    if (strcmp(label, "stdout") && strcmp(label, "stderr") && strcmp(label, "eventfd") && strcmp(label, "socket"))
        REPORT(name, write(fd, "PWNED-THROUGH-PASSED-FD\n", 24));
    snprintf(name, sizeof name, "mmap_shared_write:%s", label);
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    report(name, m == MAP_FAILED ? -1 : 0, errno);
    snprintf(name, sizeof name, "fchmod:%s", label);
    REPORT(name, syscall(SYS_fchmod, fd, 0777));
    snprintf(name, sizeof name, "fsetxattr:%s", label);
    REPORT(name, syscall(SYS_fsetxattr, fd, "user.pwned", "1", 1, 0));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int sv[2];
    REPORT("socketpair", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv));
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        int fds[260];
        int n = recv_fds(sv[1], fds, 260);
        REPORT("received", n);
        for (int i = 0; i < n && i < NFDS; i++)
            explore(LABELS[i], fds[i]);
        int more = recv_fds(sv[1], fds, 260);
        REPORT("received_second", more);
        fflush(stdout);
        _exit(0);
    }
    close(sv[1]);
    int fds[NFDS] = {
        (int)syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0),
        (int)syscall(SYS_openat, AT_FDCWD, "/usr/share", O_RDONLY | O_DIRECTORY, 0),
        (int)syscall(SYS_openat, AT_FDCWD, "/proc", O_RDONLY | O_DIRECTORY, 0),
        (int)syscall(SYS_openat, AT_FDCWD, "/etc", O_PATH, 0),
        (int)syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY, 0),
        1,
        2,
        (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY, 0),
        epoll_create1(0),
        eventfd(0, 0),
        sv[0],
    };
    for (int i = 0; i < NFDS; i++) {
        char n[64];
        snprintf(n, sizeof n, "sender_fd:%s", LABELS[i]);
        report(n, fds[i], 0);
    }
    send_fds(sv[0], fds, NFDS);
    int many[254];
    for (int i = 0; i < 254; i++)
        many[i] = 0;
    send_fds(sv[0], many, 254); /* SCM_MAX_FD is 253 */
    send_fds(sv[0], many, 253);
    int st;
    waitpid(child, &st, 0);
    /* a socket in flight inside itself, then both ends closed: GC food */
    int loop[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, loop);
    send_fds(loop[0], loop, 2);
    send_fds(loop[1], loop, 2);
    close(loop[0]);
    close(loop[1]);
    printf("DONE\n");
    return 0;
}
