/* seccomp_stack: uses seccomp itself against the sandbox's filter. It
 * installs its own filters on top (seccomp(2) and prctl): one that returns
 * ALLOW for everything (hoping to override the trap), one asking for a new
 * user-notification listener (to serve its own calls, or to receive another
 * process's), one returning SECCOMP_RET_TRACE, TSYNC over its threads, 200
 * stacked filters, strict mode in a child (refused on top of a filter), bad operations and flags; and it
 * tries the notification ioctls (RECV, ID_VALID) on fds 0-63, as if one
 * were a listener (only answers other than EBADF/ENOTTY are shown). After each filter it checks that
 * trapped calls are still served by the library OS: getuid is still the
 * virtual uid, a host path still does not exist.
 * Usage: seccomp_stack HOSTPATH
 *
 * What should stop it: filters only ever add restrictions (the strictest
 * answer wins, and USER_NOTIF beats ALLOW); the kernel allows one listener
 * per filter chain (EBUSY); the sandbox holds no listener fd.
 */
#include "hostile.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static struct sock_filter ALLOW_ALL[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
static struct sock_filter TRACE_ALL[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE)};
static struct sock_filter NOTIF_ALL[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF)};

#define PROG(f) {sizeof(f) / sizeof(f[0]), f}

static void check(const char *label, const char *host)
{
    char n[128];
    snprintf(n, sizeof n, "%s:getuid", label);
    REPORT(n, syscall(SYS_getuid));
    snprintf(n, sizeof n, "%s:open_host", label);
    REPORT(n, syscall(SYS_openat, AT_FDCWD, host, O_RDONLY, 0));
}

static void *idle(void *p)
{
    (void)p;
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    struct sock_fprog allow = PROG(ALLOW_ALL), trace = PROG(TRACE_ALL), notif = PROG(NOTIF_ALL);
    REPORT("get_notif_sizes", syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &(char[64]){0}));
    REPORT("bad_op", syscall(SYS_seccomp, 99, 0, &allow));
    REPORT("bad_flags", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0x80000000, &allow));
    REPORT("new_listener_allow", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &allow));
    REPORT("new_listener_notif", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &notif));
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    REPORT("allow_all_tsync", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &allow));
    check("after_allow", argv[1]);
    REPORT("prctl_allow_all", syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &allow, 0, 0));
    check("after_prctl_allow", argv[1]);
    int stacked = 0;
    for (int i = 0; i < 200; i++)
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &allow) == 0)
            stacked++;
    count("stacked_filters", stacked);
    check("after_stack", argv[1]);
    for (int fd = 0; fd < 64; fd++) {
        char n[64];
        unsigned char buf[128] = {0};
        snprintf(n, sizeof n, "notif_recv:fd%d", fd);
        errno = 0;
        long r = syscall(SYS_ioctl, fd, 0xC0502100 /* SECCOMP_IOCTL_NOTIF_RECV */, buf);
        if (!(r < 0 && (errno == EBADF || errno == ENOTTY)))
            report(n, r, errno);
        snprintf(n, sizeof n, "notif_id_valid:fd%d", fd);
        errno = 0;
        r = syscall(SYS_ioctl, fd, 0x40082102 /* SECCOMP_IOCTL_NOTIF_ID_VALID */, buf);
        if (!(r < 0 && (errno == EBADF || errno == ENOTTY)))
            report(n, r, errno);
    }
    /* strict mode in a child: only read, write, exit and sigreturn */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        /* refused (EINVAL) on top of a filter; if it were accepted, getpid
         * would be SIGKILL */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) != 0)
            syscall(SYS_exit, 3);
        write(1, "STRICT-ON\n", 10);
        syscall(SYS_getpid);
        syscall(SYS_exit, 0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    printf("CHILD\tstrict\t%s\t%d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    /* RET_TRACE for everything in a child (no tracer: ENOSYS, even for exit):
     * the trapped getuid must still be the library OS's answer */
    long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[0] = -2;
    fflush(stdout);
    c = fork();
    if (c == 0) {
        syscall(SYS_alarm, 1);
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &trace);
        shared[0] = syscall(SYS_getuid);
        shared[1] = syscall(SYS_getpid);
        for (;;)
            ;
    }
    waitpid(c, &st, 0);
    printf("CHILD\ttrace\t%s\t%d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    printf("R\ttrace_child:getuid\t%ld\tOK\n", shared[0]);
    REPORT("listener_after_stack", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &notif));
    check("final", argv[1]);
    printf("DONE\n");
    return 0;
}
