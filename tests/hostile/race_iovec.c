/* race_iovec: time-of-check/time-of-use on iovecs and message headers. A
 * second thread rewrites an iovec between a valid buffer and hostile
 * values (a kernel address, the vsyscall page, NULL, a length of 2^40,
 * a buffer running into an unmapped page) while the main thread loops
 * readv/writev (ABI), preadv/pwritev/preadv2/pwritev2 and vmsplice
 * (checked, then run by the kernel), sendmsg/recvmsg with the msghdr's
 * iovec and its SCM_RIGHTS control data flipping between fd numbers it holds
 * and ones it does not (a fd number of the library OS, 1000, -1), and
 * process_vm_readv/writev on itself. Each phase reports how many calls
 * succeeded and its first other error; the size and first bytes of what the
 * writes produced are shown at the end.
 * Usage: race_iovec SECONDS FILE
 *
 * What should stop it: the kernel copies an iovec array once and checks
 * every segment against the caller's own address space (EFAULT); the library
 * OS does not read iovecs at all; passed fds are the caller's own.
 */
#include "race.h"
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

static struct iovec iov[2];
static unsigned char buf[4096], *edge;

static void phase(const char *name, double secs, long (*call)(int), int fd, struct flipper *f)
{
    unsigned long ok = 0, fault = 0, other = 0;
    int first_other = 0;
    iov[0].iov_base = buf;
    iov[0].iov_len = 64;
    flipper_start(f, iov);
    double end = mono() + secs;
    while (mono() < end) {
        errno = 0;
        long r = call(fd);
        if (r >= 0)
            ok++;
        else if (errno == EFAULT)
            fault++;
        else if (!other++)
            first_other = errno;
    }
    flipper_stop(f);
    char n[64];
    snprintf(n, sizeof n, "%s_ok", name);
    count(n, ok);
    snprintf(n, sizeof n, "%s_efault", name);
    count(n, fault);
    snprintf(n, sizeof n, "%s_other", name);
    count(n, other);
    if (other) {
        snprintf(n, sizeof n, "%s_first_other", name);
        report(n, -1, first_other);
    }
}

static long do_readv(int fd) { return readv(fd, iov, 1) + (lseek(fd, 0, SEEK_SET) & 0); }
static long do_preadv(int fd) { return syscall(SYS_preadv, fd, iov, 1, 0, 0); }
static long do_preadv2(int fd) { return syscall(SYS_preadv2, fd, iov, 1, 0, 0, 0); }
static long do_pwritev(int fd) { return syscall(SYS_pwritev, fd, iov, 1, 0, 0); }
static long do_writev(int fd) { return writev(fd, iov, 1); }
static long do_pvm_readv(int fd)
{
    (void)fd;
    struct iovec local = {buf, 64};
    return syscall(SYS_process_vm_readv, getpid(), &local, 1, iov, 1, 0);
}

static int pipefd[2];
static long do_vmsplice(int fd)
{
    (void)fd;
    long r = syscall(SYS_vmsplice, pipefd[1], iov, 1, 2 /* SPLICE_F_NONBLOCK */);
    char drain[65536];
    read(pipefd[0], drain, sizeof drain);
    return r;
}

static int sp[2];
static union {
    struct cmsghdr h;
    unsigned char raw[CMSG_SPACE(sizeof(int) * 4)];
} ctl;
static long do_sendmsg(int fd)
{
    (void)fd;
    struct msghdr m = {0};
    m.msg_iov = iov;
    m.msg_iovlen = 1;
    m.msg_control = ctl.raw;
    m.msg_controllen = CMSG_SPACE(sizeof(int));
    long r = sendmsg(sp[0], &m, MSG_DONTWAIT);
    unsigned char in[128];
    union {
        struct cmsghdr h;
        unsigned char raw[CMSG_SPACE(sizeof(int) * 8)];
    } rc;
    struct iovec riov = {in, sizeof in};
    struct msghdr rm = {0};
    rm.msg_iov = &riov;
    rm.msg_iovlen = 1;
    rm.msg_control = rc.raw;
    rm.msg_controllen = sizeof rc.raw;
    if (recvmsg(sp[1], &rm, MSG_DONTWAIT) >= 0)
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&rm); c; c = CMSG_NXTHDR(&rm, c))
            if (c->cmsg_type == SCM_RIGHTS)
                for (unsigned i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                    close(((int *)CMSG_DATA(c))[i]);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    double secs = atof(argv[1]) / 8;
    /* a page followed by an unmapped one: a segment running over the edge */
    unsigned char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    edge = two + 4096 - 16;
    static struct iovec good[2], kern[2], vsys[2], null[2], huge[2], over[2];
    good[0] = (struct iovec){buf, 64};
    kern[0] = (struct iovec){(void *)0xffffffff81000000UL, 64};
    vsys[0] = (struct iovec){(void *)0xffffffffff600000UL, 4096};
    null[0] = (struct iovec){NULL, 64};
    huge[0] = (struct iovec){buf, 1UL << 40};
    over[0] = (struct iovec){edge, 64};
    /* Whole words: a torn iovec base (some bytes of one pointer, some of
     * another) aims the kernel's write at any address of this program's own
     * memory, its GOT included; that only ever crashed the attacker. */
    struct flipper f = {.words = 1};
    flipper_add(&f, good, sizeof(struct iovec));
    flipper_add(&f, kern, sizeof(struct iovec));
    flipper_add(&f, good, sizeof(struct iovec));
    flipper_add(&f, vsys, sizeof(struct iovec));
    flipper_add(&f, good, sizeof(struct iovec));
    flipper_add(&f, null, sizeof(struct iovec));
    flipper_add(&f, good, sizeof(struct iovec));
    flipper_add(&f, huge, sizeof(struct iovec));
    flipper_add(&f, good, sizeof(struct iovec));
    flipper_add(&f, over, sizeof(struct iovec));

    int in = (int)syscall(SYS_openat, AT_FDCWD, argv[1 + 1], O_RDONLY, 0);
    int out = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/race-iovec.out", O_RDWR | O_CREAT | O_TRUNC, 0600);
    pipe(pipefd);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sp);
    phase("readv", secs, do_readv, in, &f);
    phase("preadv", secs, do_preadv, in, &f);
    phase("preadv2", secs, do_preadv2, in, &f);
    memcpy(buf, "IOVEC-RACE-OUTPUT", 17);
    phase("pwritev", secs, do_pwritev, out, &f);
    phase("writev_pipe", secs, do_writev, pipefd[1], &f);
    phase("vmsplice", secs, do_vmsplice, 0, &f);
    phase("process_vm_readv", secs, do_pvm_readv, 0, &f);

    /* sendmsg: the iovec and the passed fd number both flip */
    ctl.h.cmsg_level = SOL_SOCKET;
    ctl.h.cmsg_type = SCM_RIGHTS;
    ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
    static int fd_own = 0, fd_none = 1000, fd_neg = -1, fd_big = 0x7fffffff;
    struct flipper fc = {0};
    flipper_add(&fc, &fd_own, sizeof(int));
    flipper_add(&fc, &fd_none, sizeof(int));
    flipper_add(&fc, &fd_own, sizeof(int));
    flipper_add(&fc, &fd_neg, sizeof(int));
    flipper_add(&fc, &fd_own, sizeof(int));
    flipper_add(&fc, &fd_big, sizeof(int));
    flipper_start(&fc, CMSG_DATA(&ctl.h));
    phase("sendmsg", secs, do_sendmsg, 0, &f);
    flipper_stop(&fc);

    /* what the writes put in the file: the program's own bytes only */
    count("out_size", (unsigned long)lseek(out, 0, SEEK_END));
    unsigned char head[32] = {0};
    long n = pread(out, head, sizeof head, 0);
    hexline("DATA", "/tmp/race-iovec.out", head, n > 0 ? n : 0);
    printf("DONE\n");
    return 0;
}
