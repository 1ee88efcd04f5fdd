/* zombie_flood: forks children that exit at once and are never reaped, as
 * fast as it can, until fork fails; the zombies keep their pids. Then it
 * reports how many forks succeeded and the first error, and sleeps (its
 * zombies with it) so that the host can count the sandbox's processes.
 * Usage: zombie_flood MAX TAG
 * Output: "FORKED <n> <errno name>" then it sleeps for an hour.
 *
 * What should stop it: limits.processes counts zombies (a pid is in use
 * until it is reaped): the pids cgroup under root, RLIMIT_NPROC otherwise;
 * fork fails with EAGAIN at the limit, and the host's process table holds
 * at most that many of the sandbox's processes. Ending the sandbox reaps
 * them all.
 */
#include "hostile.h"
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int max = atoi(argv[1]), n = 0, err = 0;
    for (int i = 0; i < max; i++) {
        long p = syscall(SYS_fork);
        if (p == 0)
            syscall(SYS_exit_group, 0);
        if (p < 0) {
            err = errno;
            break;
        }
        n++;
    }
    printf("FORKED\t%d\t%s\n", n, err ? ename(err) : "none");
    fflush(stdout);
    struct timespec ts = {3600, 0};
    for (;;)
        syscall(SYS_nanosleep, &ts, NULL);
}
