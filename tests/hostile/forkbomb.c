/* forkbomb: every process forks as fast as it can, forever, so that the
 * machine runs out of processes (and the library OS out of breath).
 *
 * What should stop it: limits.processes (motte --pids N): the library OS
 * refuses a fork (EAGAIN) once the sandbox holds N live processes; the wall
 * time limit (--timeout) or the end of motte then ends every process of the
 * pid namespace at once.
 */
#include "hostile.h"

int main(void)
{
    printf("START\n");
    fflush(stdout);
    for (;;) {
        if (fork() < 0)
            usleep(2000);
    }
}
