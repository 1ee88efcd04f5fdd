/* pgrp_games: process-group and session games aimed at the host: join the
 * host process's group or session (setpgid to its pgid, setpgid of the host
 * pid itself), make pid 1 a new session leader again, move a child into pid
 * 1's group and back, let a child found its own session and then try to
 * take the terminal on stdin (TIOCSCTTY) and set its foreground group to a
 * host group (TIOCSPGRP), read the host process's group and session
 * (getpgid, getsid), signal the host group, and orphan a stopped process
 * group (the kernel then sends it SIGHUP and SIGCONT: inside only).
 * Usage: pgrp_games HOSTPID HOSTPGID HOSTSID
 *
 * What should stop it: process groups and sessions are per pid namespace:
 * the host's do not exist there (ESRCH/EPERM); the sandbox's pid 1 is already
 * a session leader, set up by motte, with no controlling terminal. The
 * host process's group and session must be as they were.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long hp = atol(argv[1]), hpg = atol(argv[2]), hsid = atol(argv[3]);
    REPORT("setsid_pid1", syscall(SYS_setsid));
    REPORT("setpgid_self_to_host_pgid", syscall(SYS_setpgid, 0, hpg));
    REPORT("setpgid_self_to_host_sid", syscall(SYS_setpgid, 0, hsid));
    REPORT("setpgid_host_pid", syscall(SYS_setpgid, hp, 0));
    REPORT("setpgid_host_pid_to_mine", syscall(SYS_setpgid, hp, getpgrp()));
    REPORT("getpgid_host", syscall(SYS_getpgid, hp));
    REPORT("getsid_host", syscall(SYS_getsid, hp));
    REPORT("kill_host_pgrp", syscall(SYS_kill, -hpg, SIGCONT));
    REPORT("kill_host_sid", syscall(SYS_kill, -hsid, SIGCONT));
    int ppg = getpgrp();
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        REPORT("child_setpgid_own", syscall(SYS_setpgid, 0, 0));
        REPORT("child_setpgid_back_to_pid1", syscall(SYS_setpgid, 0, ppg));
        REPORT("child_setsid", syscall(SYS_setsid));
        REPORT("child_setpgid_host_after_setsid", syscall(SYS_setpgid, 0, hpg));
        REPORT("child_tiocsctty_stdin", syscall(SYS_ioctl, 0, TIOCSCTTY, 1));
        int pg = (int)hpg;
        REPORT("child_tiocspgrp_host", syscall(SYS_ioctl, 0, TIOCSPGRP, &pg));
        REPORT("child_tiocspgrp_host_stdout", syscall(SYS_ioctl, 1, TIOCSPGRP, &pg));
        /* a stopped grandchild in a group that is orphaned when we exit */
        fflush(stdout);
        pid_t g = fork();
        if (g == 0) {
            syscall(SYS_setpgid, 0, 0);
            raise(SIGSTOP);
            _exit(0);
        }
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    REPORT("my_sid", syscall(SYS_getsid, 0));
    REPORT("my_pgid", syscall(SYS_getpgid, 0));
    printf("ALIVE\n");
    return 0;
}
