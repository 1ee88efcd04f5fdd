/* race_exec_sibling: the exec race of race_exec, with the rewriting done by
 * another process sharing the caller's memory rather than by a thread: a
 * clone(CLONE_VM) child, and a clone(CLONE_VM|CLONE_PARENT) sibling (neither
 * the caller's parent nor its child). Started as the sandbox's root, it makes
 * a directory only root may enter (0700) holding a copy of /bin/false
 * (0755), drops to uid 1000, then in forked children execs "/bin/true" from a
 * buffer the other process keeps flipping to the root-only program.
 * Output: "SHARER kind exit" for one exec beside each kind of sharer (100:
 * execve failed with EACCES, 101: another error, 0: /bin/true ran), then
 * "RACE attempts true refused other rootonly" where rootonly counts the
 * children that ran the copy of /bin/false (exit 1).
 * Usage: race_exec_sibling SECONDS   (run with --user root)
 *
 * What should stop it: the kernel re-reads an exec's path; while the sandbox
 * holds something closed to the caller, the library OS lets it do so only
 * when no other process of the sandbox shares the caller's memory, fds or
 * cwd (kcmp against every process of the sandbox, wherever it sits in the
 * tree; a vfork parent held until the exec is no danger), else EACCES.
 */
#include "hostile.h"
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static char path[64] __attribute__((aligned(64)));
static volatile int flip;

static int sharer(void *arg)
{
    (void)arg;
    if (!flip)
        for (;;)
            pause();
    for (;;) {
        memcpy(path, "/tmp/rootonly/prog", 19);
        for (volatile int i = 0; i < 50; i++)
            ;
        memcpy(path, "/bin/true\0\0\0\0\0\0\0\0\0", 19);
        for (volatile int i = 0; i < 50; i++)
            ;
    }
    return 0;
}

static int attempt(int flags, int doflip)
{
    pid_t c = fork();
    if (c == 0) {
        strcpy(path, "/bin/true");
        flip = doflip;
        char *stack = malloc(65536);
        int s = clone(sharer, stack + 65536, flags | SIGCHLD, NULL);
        if (s < 0)
            _exit(99);
        char *av[] = {"raced", NULL};
        syscall(SYS_execve, path, av, NULL);
        int e = errno;
        kill(s, SIGKILL);
        _exit(e == EACCES ? 100 : 101);
    }
    int st = 0;
    waitpid(c, &st, 0);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2;
    REPORT("setup_mkdir", syscall(SYS_mkdirat, AT_FDCWD, "/tmp/rootonly", 0700));
    int in = (int)syscall(SYS_openat, AT_FDCWD, "/bin/false", O_RDONLY, 0);
    int out = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly/prog", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    char buf[65536];
    long n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
    REPORT("drop_to_1000", syscall(SYS_setresuid, 1000, 1000, 1000));
    printf("SHARER\tclone_vm_child\t%d\n", attempt(CLONE_VM, 0));
    printf("SHARER\tclone_vm_sibling\t%d\n", attempt(CLONE_VM | CLONE_PARENT, 0));
    unsigned long tries = 0, ran_true = 0, refused = 0, other = 0, rootonly = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        int r = attempt((tries & 1) ? CLONE_VM | CLONE_PARENT : CLONE_VM, 1);
        tries++;
        if (r == 0)
            ran_true++;
        else if (r == 100)
            refused++;
        else if (r == 1)
            rootonly++;
        else
            other++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
    printf("RACE\t%lu\t%lu\t%lu\t%lu\t%lu\n", tries, ran_true, refused, other, rootonly);
    printf("DONE\n");
    return 0;
}
