/* thread_bomb: creates threads (small stacks, each blocked in a futex
 * wait) until the kernel refuses, then reports how many it got; threads
 * are native ABI clones (CLONE_THREAD) the library OS never hears of. Then
 * it sleeps so that the host can count the sandbox's tasks.
 * Usage: thread_bomb MAX TAG
 * Output: "THREADS <n> <errno name>".
 *
 * What should stop it: limits.processes counts threads too (the pids
 * cgroup under root, RLIMIT_NPROC otherwise): pthread_create fails with
 * EAGAIN at the limit and the host holds at most that many of its tasks.
 */
#include "hostile.h"
#include <pthread.h>
#include <linux/futex.h>
#include <time.h>

static int never;

static void *idle(void *p)
{
    (void)p;
    for (;;)
        syscall(SYS_futex, &never, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int max = atoi(argv[1]), n = 0, err = 0;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);
    for (int i = 0; i < max; i++) {
        pthread_t t;
        err = pthread_create(&t, &a, idle, NULL);
        if (err)
            break;
        n++;
    }
    printf("THREADS\t%d\t%s\n", n, err ? ename(err) : "none");
    fflush(stdout);
    struct timespec ts = {3600, 0};
    for (;;)
        syscall(SYS_nanosleep, &ts, NULL);
}
