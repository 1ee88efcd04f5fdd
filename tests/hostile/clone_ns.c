/* clone_ns: asks for new namespaces every way there is: raw clone(2) with
 * each CLONE_NEW* flag alone and all together, with the flags' upper 32 bits
 * set (the kernel ignores them, a filter must not), CLONE_PARENT from pid 1
 * (a sibling of pid 1 would be a child of the host-side keeper), clone3 with
 * each flag, with CLONE_INTO_CGROUP and with odd sizes, unshare(2) with each
 * flag and setns on the fds it holds. A child that is born reports
 * "CHILD-BORN <name>" and sleeps, so that the host can see which namespaces
 * the sandbox's processes are in; after the attempts the program prints
 * READY and sleeps for the given seconds.
 * Usage: clone_ns SECONDS TAG   (TAG only names the process for the host)
 *
 * What should stop it: the filter lets clone through only without any
 * CLONE_NEW* flag and with a zero upper half; the library OS refuses the
 * rest (EPERM) and answers ENOSYS to every clone3 (its flags sit in memory
 * that could change after a check), EPERM to unshare and setns; the kernel
 * refuses CLONE_PARENT from a namespace's init. From the host, every process
 * of the sandbox shares pid 1's user, mount, net, uts, ipc and cgroup
 * namespaces.
 */
#include "hostile.h"
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static int seconds;

static void born(const char *name)
{
    printf("CHILD-BORN\t%s\n", name);
    fflush(stdout);
    struct timespec ts = {seconds + 2, 0};
    nanosleep(&ts, NULL);
    _exit(0);
}

static void try_clone(const char *name, unsigned long flags)
{
    char n[128];
    snprintf(n, sizeof n, "clone:%s", name);
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        born(n);
    report(n, r, errno);
}

static void try_clone3(const char *name, unsigned long long flags, size_t size, int cgroup)
{
    char n[128];
    snprintf(n, sizeof n, "clone3:%s", name);
    static unsigned char big[8192];
    struct clone_args *a = (struct clone_args *)big;
    memset(big, 0, sizeof big);
    a->flags = flags;
    a->exit_signal = SIGCHLD;
    a->cgroup = cgroup;
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_clone3, a, size);
    if (r == 0)
        born(n);
    report(n, r, errno);
}

int main(int argc, char **argv)
{
    seconds = argc > 1 ? atoi(argv[1]) : 2;
    static const struct {
        const char *name;
        unsigned long flag;
    } NS[] = {
        {"newns", CLONE_NEWNS},       {"newuts", CLONE_NEWUTS}, {"newipc", CLONE_NEWIPC},
        {"newuser", CLONE_NEWUSER},   {"newpid", CLONE_NEWPID}, {"newnet", CLONE_NEWNET},
        {"newcgroup", CLONE_NEWCGROUP},
    };
    unsigned long all = 0;
    for (size_t i = 0; i < sizeof NS / sizeof NS[0]; i++) {
        try_clone(NS[i].name, NS[i].flag);
        all |= NS[i].flag;
    }
    try_clone("all", all);
    try_clone("newuser_hi", (1UL << 32) | CLONE_NEWUSER);
    try_clone("hi_only", 1UL << 32);
    try_clone("hi_newns", (1UL << 40) | CLONE_NEWNS);
    try_clone("parent", CLONE_PARENT);
    try_clone("parent_newpid", CLONE_PARENT | CLONE_NEWPID);
    try_clone("vm_vfork_newuser", CLONE_VM | CLONE_VFORK | CLONE_NEWUSER);
    for (size_t i = 0; i < sizeof NS / sizeof NS[0]; i++)
        try_clone3(NS[i].name, NS[i].flag, sizeof(struct clone_args), -1);
    try_clone3("newtime", CLONE_NEWTIME, sizeof(struct clone_args), -1);
    try_clone3("into_cgroup_stdout", CLONE_INTO_CGROUP, sizeof(struct clone_args), 1);
    try_clone3("size_4096_newuser", CLONE_NEWUSER, 4096, -1);
    try_clone3("size_8_newuser", CLONE_NEWUSER, 8, -1);
    for (size_t i = 0; i < sizeof NS / sizeof NS[0]; i++) {
        char n[64];
        snprintf(n, sizeof n, "unshare:%s", NS[i].name);
        REPORT(n, syscall(SYS_unshare, NS[i].flag));
    }
    REPORT("unshare:newtime", syscall(SYS_unshare, CLONE_NEWTIME));
    REPORT("unshare:files_fs", syscall(SYS_unshare, CLONE_FILES | CLONE_FS));
    for (int fd = 0; fd < 3; fd++) {
        char n[64];
        snprintf(n, sizeof n, "setns:fd%d", fd);
        REPORT(n, syscall(SYS_setns, fd, 0));
    }
    REPORT("open_proc_self_ns_user", syscall(SYS_openat, AT_FDCWD, "/proc/self/ns/user", O_RDONLY, 0));
    printf("READY\n");
    fflush(stdout);
    struct timespec ts = {seconds, 0};
    nanosleep(&ts, NULL);
    printf("DONE\n");
    return 0;
}
