/* fork_quiet: forks N children that make no trapped call at all (they only
 * sleep with nanosleep, which the ABI lets through natively), so that the
 * library OS never hears of them, and counts how many forks succeeded.
 * Usage: fork_quiet N TAG
 *
 * What should stop it: limits.processes must count every child the sandbox
 * has made, heard of or not (a fork the library OS let through is a process
 * until it is reaped), so that fork fails with EAGAIN past the limit.
 */
#include "hostile.h"
#include <signal.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int n = atoi(argv[1]), ok = 0, first_err = 0;
    for (int i = 0; i < n; i++) {
        long p = syscall(SYS_fork);
        if (p == 0) {
            struct timespec ts = {3600, 0};
            for (;;)
                syscall(SYS_nanosleep, &ts, NULL);
        }
        if (p > 0)
            ok++;
        else if (!first_err)
            first_err = errno;
    }
    printf("FORKED\t%d\t%s\n", ok, first_err ? ename(first_err) : "OK");
    fflush(stdout);
    struct timespec ts = {3600, 0};
    syscall(SYS_nanosleep, &ts, NULL);
    return 0;
}
