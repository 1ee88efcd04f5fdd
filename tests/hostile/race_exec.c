/* race_exec: time-of-check/time-of-use on execve's path, which the library
 * OS checks and the kernel then reads again from the caller's memory (a
 * known limit: see docs/architecture.md). Forked children each start a
 * thread that rewrites the path between /bin/true and the targets (a host
 * script's host path, which would print its marker and touch a host file;
 * the same through "/proc/self/root/.." and "../../../.."; a sandbox script
 * with no execute bit; with "rootonly", a script of the sandbox's root with
 * mode 0700 that the program, started as root, makes before it drops to
 * uid 1000), and call execve in a loop; the parent counts how the children
 * ended. Anything a target script prints reaches stdout ("RAN-...").
 * Usage: race_exec SECONDS [rootonly] TARGET...
 *
 * What should stop it: the kernel resolves the re-read path in the
 * sandbox's root, where no host path exists, and checks the execute bit
 * itself. Within the view, the kernel's check is the one host user's, laxer
 * than the virtual users' (root's 0700 script): while the sandbox holds such
 * a file of another user's, the library OS lets the kernel re-read an exec's
 * path only when no other thread or process can write it, so these execs
 * (a second thread flipping the path) are refused and "RAN-ROOTONLY" never
 * shows.
 */
#include "race.h"
#include <sys/wait.h>

static char pathbuf[4096];

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    double secs = atof(argv[1]);
    int first = 2;
    struct flipper f = {0};
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/noexec.sh", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    dprintf(fd, "#!/bin/sh\necho RAN-NOEXEC\n");
    close(fd);
    flipper_add_str(&f, "/bin/true");
    flipper_add_str(&f, "/tmp/noexec.sh");
    if (!strcmp(argv[2], "rootonly")) {
        first = 3;
        fd = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/rootonly.sh", O_CREAT | O_WRONLY | O_TRUNC, 0700);
        dprintf(fd, "#!/bin/sh\necho RAN-ROOTONLY\n");
        close(fd);
        REPORT("drop_to_1000", syscall(SYS_setresuid, 1000, 1000, 1000));
        REPORT("direct_exec_rootonly", execl("/tmp/rootonly.sh", "rootonly.sh", (char *)NULL));
        flipper_add_str(&f, "/bin/true");
        flipper_add_str(&f, "/tmp/rootonly.sh");
    }
    for (int i = first; i < argc && f.n < MAX_VARIANTS - 1; i++) {
        flipper_add_str(&f, "/bin/true");
        flipper_add_str(&f, argv[i]);
    }
    unsigned long children = 0, ran_true = 0, failed = 0, other = 0;
    double end = mono() + secs;
    while (mono() < end) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            strcpy(pathbuf, "/bin/true");
            flipper_start(&f, pathbuf);
            char *av[] = {"raced", NULL};
            char *env[] = {"PATH=/usr/bin:/bin", NULL};
            for (int i = 0; i < 200; i++)
                syscall(SYS_execve, pathbuf, av, env);
            _exit(100);
        }
        int st = 0;
        waitpid(p, &st, 0);
        children++;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ran_true++;
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
            failed++;
        else
            other++;
    }
    count("children", children);
    count("exec_ok", ran_true);
    count("all_failed", failed);
    count("other_end", other);
    printf("DONE\n");
    return 0;
}
