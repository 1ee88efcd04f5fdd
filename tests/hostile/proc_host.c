/* proc_host: looks for host processes and tries to signal or touch one.
 * Usage: proc_host HOSTPID [MOTTEPID]   (host pids of a host `sleep` and of
 * the motte process serving this very sandbox)
 * It lists /proc, reads /proc/HOSTPID/{cmdline,environ,status,root/...},
 * then kill/tgkill/tkill/rt_sigqueueinfo/pidfd_open/pidfd_send_signal/
 * process_vm_readv/prlimit64/setpriority/sched_setaffinity/ioprio_set/
 * getpgid/getsid on HOSTPID (and on -HOSTPID, its process group), and
 * SIGKILL to motte's pid.
 *
 * What should stop it: the sandbox has its own pid namespace (host pids do
 * not exist there, so the kernel answers ESRCH for every pid-taking call it
 * runs) and /proc is the library OS's synthetic one listing only the
 * sandbox's processes under sandbox pids; ptrace-like calls are EPERM.
 * From the host, the sleep must survive with its priority and limits as
 * they were.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sched.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    long hp = atol(argv[1]);
    char p[256];

    probe("/proc");
    snprintf(p, sizeof p, "/proc/%ld", hp);
    probe(p);
    snprintf(p, sizeof p, "/proc/%ld/cmdline", hp);
    probe(p);
    snprintf(p, sizeof p, "/proc/%ld/environ", hp);
    probe(p);
    snprintf(p, sizeof p, "/proc/%ld/status", hp);
    probe(p);
    snprintf(p, sizeof p, "/proc/%ld/root/etc/shadow", hp);
    probe(p);
    snprintf(p, sizeof p, "/proc/%ld/cwd", hp);
    probe(p);
    probe("/proc/1/cmdline");
    probe("/proc/1/root/etc/shadow");
    probe("/proc/self/root/../../../etc/shadow");
    probe("/proc/self/cwd/../../../../root");
    probe("/proc/self/mountinfo");

    REPORT("kill0", syscall(SYS_kill, hp, 0));
    REPORT("kill_term", syscall(SYS_kill, hp, SIGTERM));
    REPORT("kill_kill", syscall(SYS_kill, hp, SIGKILL));
    REPORT("kill_pgrp", syscall(SYS_kill, -hp, SIGKILL));
    REPORT("tgkill", syscall(SYS_tgkill, hp, hp, SIGKILL));
    REPORT("tkill", syscall(SYS_tkill, hp, SIGKILL));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGKILL;
    si.si_code = SI_QUEUE;
    REPORT("rt_sigqueueinfo", syscall(SYS_rt_sigqueueinfo, hp, SIGKILL, &si));
    errno = 0;
    long pfd = syscall(SYS_pidfd_open, hp, 0);
    report("pidfd_open", pfd, errno);
    if (pfd >= 0)
        REPORT("pidfd_send_signal", syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
    char buf[64];
    struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
    REPORT("process_vm_readv", syscall(SYS_process_vm_readv, hp, &local, 1, &remote, 1, 0));
    struct rlimit rl = {0, 0};
    REPORT("prlimit64", syscall(SYS_prlimit64, hp, RLIMIT_NOFILE, &rl, NULL));
    REPORT("setpriority", syscall(SYS_setpriority, PRIO_PROCESS, hp, 19));
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    REPORT("sched_setaffinity", syscall(SYS_sched_setaffinity, hp, sizeof cs, &cs));
    REPORT("ioprio_set", syscall(SYS_ioprio_set, 1, hp, (3 << 13) | 7));
    REPORT("getpgid", syscall(SYS_getpgid, hp));
    REPORT("getsid", syscall(SYS_getsid, hp));
    REPORT("ptrace_attach", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, hp, 0, 0));
    if (argc > 2) {
        long mp = atol(argv[2]);
        REPORT("kill_motte", syscall(SYS_kill, mp, SIGKILL));
        REPORT("kill_motte_group", syscall(SYS_kill, -mp, SIGKILL));
    }
    printf("DONE\n");
    return 0;
}
