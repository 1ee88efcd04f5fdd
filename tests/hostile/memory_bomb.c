/* memory_bomb: takes memory until something stops it, touching every page
 * so that it is really there, and reports its progress as it goes
 * ("HELD <pid> <MB>" every 16 MB), so that whatever ends it, the last line
 * says how far it got. Mode "anon": one process, anonymous mmap. Mode
 * "fork": NPROC processes at once, each trying for PER_MB, so that a
 * per-process limit alone (RLIMIT_AS) would let the sandbox hold
 * NPROC * PER_MB.
 * Usage: memory_bomb anon MAX_MB TAG | memory_bomb fork NPROC PER_MB TAG
 *        (TAG only names the processes for the host)
 *
 * What should stop it: limits.memory_mb bounds the whole sandbox (a memory
 * cgroup under root; RLIMIT_AS of each process otherwise): mmap fails with
 * ENOMEM or the kernel's OOM killer ends a process of the sandbox, and
 * never one of the host.
 */
#include "hostile.h"
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static void grab(long max_mb)
{
    long held = 0;
    while (held < max_mb) {
        char *p = mmap(NULL, 16 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            printf("ENOMEM\t%d\t%ld\n", getpid(), held);
            fflush(stdout);
            return;
        }
        for (long i = 0; i < 16 << 20; i += 4096)
            p[i] = 1;
        held += 16;
        printf("HELD\t%d\t%ld\n", getpid(), held);
        fflush(stdout);
    }
    printf("GOT-ALL\t%d\t%ld\n", getpid(), held);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    if (!strcmp(argv[1], "anon")) {
        grab(atol(argv[2]));
        return 0;
    }
    int n = atoi(argv[2]);
    long per = argc > 3 ? atol(argv[3]) : 200;
    for (int i = 0; i < n; i++) {
        fflush(stdout);
        if (fork() == 0) {
            grab(per);
            /* hold it while the others grow */
            struct timespec ts = {2, 0};
            nanosleep(&ts, NULL);
            _exit(0);
        }
    }
    int st;
    while (wait(&st) > 0)
        printf("CHILD-END\t%s\t%d\n", WIFSIGNALED(st) ? "signal" : "exit",
               WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    printf("PARENT-DONE\n");
    return 0;
}
