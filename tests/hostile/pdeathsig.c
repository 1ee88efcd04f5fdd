/* pdeathsig: parent-death-signal games. The sandbox's pid 1 was started
 * with PR_SET_PDEATHSIG(SIGKILL), which ties its life to the keeper and,
 * through the keeper's own death signal, to motte: it reads that setting,
 * then clears it (PR_SET_PDEATHSIG 0) or sets a harmless signal instead, so
 * that when motte gives up on it (the wall time limit, or motte killed) it
 * would live on, an orphan on the host, outside any limit. It also forks a
 * child that sets SIGKILL as its own death signal (harmless) and tries
 * invalid signals. Then every process sleeps (native nanosleep) forever.
 * Usage: pdeathsig MODE TAG   MODE: clear (PR_SET_PDEATHSIG 0) or
 *                              ignore (PR_SET_PDEATHSIG SIGCHLD)
 * Output: "PDEATHSIG <value read>", one R line per prctl, READY.
 *
 * What should stop it: the end of the sandbox must not depend on pid 1's
 * cooperation: whatever pid 1 did to its own death signal, motte ending the
 * sandbox (timeout, or motte's own death) ends every process of its pid
 * namespace.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

static void sleep_forever(void)
{
    struct timespec ts = {3600, 0};
    for (;;)
        syscall(SYS_nanosleep, &ts, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int sig = -1;
    REPORT("get_pdeathsig", syscall(SYS_prctl, PR_GET_PDEATHSIG, &sig, 0, 0, 0));
    printf("PDEATHSIG\t%d\n", sig);
    REPORT("pdeathsig_invalid_65", syscall(SYS_prctl, PR_SET_PDEATHSIG, 65, 0, 0, 0));
    REPORT("pdeathsig_invalid_neg", syscall(SYS_prctl, PR_SET_PDEATHSIG, -1, 0, 0, 0));
    if (!strcmp(argv[1], "clear"))
        REPORT("pdeathsig_clear", syscall(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0));
    else
        REPORT("pdeathsig_sigchld", syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGCHLD, 0, 0, 0));
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        syscall(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
        sleep_forever();
    }
    REPORT("fork", c);
    printf("READY\n");
    fflush(stdout);
    sleep_forever();
}
