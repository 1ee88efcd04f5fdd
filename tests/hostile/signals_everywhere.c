/* signals_everywhere: every signal to every target a sandbox can name. From
 * a child (so that pid 1 watches): kill(-1, sig) for SIGSTOP, SIGTSTP,
 * SIGCONT, SIGUSR1, SIGHUP, SIGTERM, SIGKILL (the sandbox's other processes
 * only); kill, tgkill, rt_sigqueueinfo (with a forged si_code), pidfd_open
 * and pidfd_send_signal aimed at a host process, at motte (the library
 * OS's host pid), at their process groups and at pid 0 (the caller's own
 * group); every signal 1..64 to the host pid and to motte's pid. Pid 1 then
 * reports that it is alive, and a second child checks that the library OS
 * still answers.
 * Usage: signals_everywhere HOSTPID MOTTEPID
 *
 * What should stop it: the pid namespace: host pids do not exist there
 * (ESRCH), kill(-1) reaches only the sandbox's processes (never pid 1, which
 * the kernel shields from signals it does not handle from inside its
 * namespace), and the library OS lets signals only the kernel's way. The
 * host process must still be running (not stopped), motte must finish
 * normally.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static void one_target(const char *label, long pid)
{
    char n[128];
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == 32 || sig == 33)
            continue; /* glibc's own */
        snprintf(n, sizeof n, "kill:%s:%d", label, sig);
        REPORT(n, syscall(SYS_kill, pid, sig));
    }
    snprintf(n, sizeof n, "tgkill:%s", label);
    REPORT(n, syscall(SYS_tgkill, pid, pid, SIGKILL));
    snprintf(n, sizeof n, "tkill:%s", label);
    REPORT(n, syscall(SYS_tkill, pid, SIGSTOP));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIGTERM;
    si.si_code = SI_KERNEL; /* forged: "sent by the kernel" */
    snprintf(n, sizeof n, "sigqueue_forged:%s", label);
    REPORT(n, syscall(SYS_rt_sigqueueinfo, pid, SIGTERM, &si));
    si.si_code = SI_QUEUE;
    snprintf(n, sizeof n, "sigqueue:%s", label);
    REPORT(n, syscall(SYS_rt_sigqueueinfo, pid, SIGTERM, &si));
    snprintf(n, sizeof n, "tgsigqueue:%s", label);
    REPORT(n, syscall(SYS_rt_tgsigqueueinfo, pid, pid, SIGTERM, &si));
    snprintf(n, sizeof n, "pidfd_open:%s", label);
    errno = 0;
    long pfd = syscall(SYS_pidfd_open, pid, 0);
    report(n, pfd, errno);
    if (pfd >= 0) {
        snprintf(n, sizeof n, "pidfd_send_signal:%s", label);
        REPORT(n, syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long host = atol(argv[1]), motte = atol(argv[2]);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        static const int sigs[] = {SIGSTOP, SIGTSTP, SIGCONT, SIGUSR1, SIGHUP, SIGTERM};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
            char n[64];
            snprintf(n, sizeof n, "kill_minus1:%d", sigs[i]);
            REPORT(n, syscall(SYS_kill, -1, sigs[i]));
        }
        REPORT("kill_minus1:cont_again", syscall(SYS_kill, -1, SIGCONT));
        one_target("host", host);
        one_target("host_pgrp", -host);
        one_target("motte", motte);
        one_target("motte_pgrp", -motte);
        REPORT("kill_0_cont", syscall(SYS_kill, 0, SIGCONT));
        REPORT("kill_minus1:kill", syscall(SYS_kill, -1, SIGKILL));
        fflush(stdout);
        _exit(0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    printf("ATTACKER\t%s\t%d\n", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    fflush(stdout);
    pid_t c2 = fork();
    if (c2 == 0) {
        REPORT("after:getuid", syscall(SYS_getuid));
        REPORT("after:open", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c2, &st, 0);
    printf("ALIVE\n");
    return 0;
}
