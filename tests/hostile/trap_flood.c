/* trap_flood: an endless flood of trapped calls: NPROC processes each loop
 * on stat/open/close/getuid (all served by the library OS) as fast as they
 * can for SECONDS, while one more process of the same sandbox, the prober,
 * every 20 ms times a trapped call of its own and keeps the worst latency.
 * It prints "PROBE <n> <worst microseconds>" and the flood's call count; the
 * host meanwhile starts a second, separate sandbox and times it.
 * Usage: trap_flood NPROC SECONDS
 *
 * What should stop starvation: the library OS answers trapped calls in
 * arrival order, one at a time, so a flooding process delays another by at
 * most the calls queued ahead of it (a trapped call answered within 1 s);
 * each sandbox has its own library OS, so a second sandbox is not slowed by
 * this one's flood beyond the CPU they share.
 */
#include "race.h"
#include <sys/mman.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int n = atoi(argv[1]);
    double secs = atof(argv[2]);
    unsigned long *calls = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    double end = mono() + secs;
    for (int i = 0; i < n; i++) {
        fflush(stdout);
        if (fork() == 0) {
            struct stat st;
            unsigned long k = 0;
            while (mono() < end) {
                syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0);
                long fd = syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
                if (fd >= 0)
                    close((int)fd);
                syscall(SYS_getuid);
                k += 3;
            }
            __atomic_add_fetch(&calls[i + 1], k, __ATOMIC_RELAXED);
            _exit(0);
        }
    }
    fflush(stdout);
    pid_t prober = fork();
    if (prober == 0) {
        double worst = 0;
        unsigned long probes = 0;
        struct timespec gap = {0, 20000000};
        while (mono() < end) {
            struct stat st;
            double t0 = mono();
            syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0);
            double dt = mono() - t0;
            if (dt > worst)
                worst = dt;
            probes++;
            nanosleep(&gap, NULL);
        }
        printf("PROBE\t%lu\t%.0f\n", probes, worst * 1e6);
        fflush(stdout);
        _exit(0);
    }
    int st;
    while (wait(&st) > 0)
        ;
    unsigned long total = 0;
    for (int i = 0; i < n; i++)
        total += calls[i + 1];
    count("flood_calls", total);
    printf("DONE\n");
    return 0;
}
