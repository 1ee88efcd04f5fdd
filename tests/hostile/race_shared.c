/* race_shared: the same time-of-check/time-of-use attacks, but the argument
 * is rewritten by a second process, through a MAP_SHARED anonymous page the
 * two share (a library OS that pinned only the calling process's threads,
 * or copied arguments lazily, would miss it). The child rewrites a path
 * (harmless file <-> host targets) and a unix sockaddr (the sandbox's own
 * listener <-> the host's socket path) in the shared page; the parent opens,
 * stats, execs (in a grandchild) and connects with them in a loop.
 * Usage: race_shared SECONDS HOST_SOCKET_PATH TARGET...
 *
 * What should stop it: arguments are copied once from the caller's memory,
 * shared or not, and whatever the kernel itself re-reads it resolves in the
 * sandbox's root and network namespace, where no host path or socket exists.
 */
#include "race.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define HARMLESS "/tmp/shared-harmless"

struct shared {
    char path[4096];
    struct sockaddr_un addr;
    volatile int stop;
};

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    double secs = atof(argv[1]);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int hf = (int)syscall(SYS_openat, AT_FDCWD, HARMLESS, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    write(hf, "#!/bin/true\nHARMLESS\n", 21);
    close(hf);
    struct stat st;
    stat(HARMLESS, &st);
    ino_t hino = st.st_ino;
    static struct sockaddr_un own, host;
    own.sun_family = host.sun_family = AF_UNIX;
    snprintf(own.sun_path, sizeof own.sun_path, "/tmp/shared.sock");
    snprintf(host.sun_path, sizeof host.sun_path, "%s", argv[2]);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    bind(l, (struct sockaddr *)&own, sizeof own);
    listen(l, 4096);
    strcpy(sh->path, HARMLESS);
    sh->addr = own;
    fflush(stdout);
    pid_t w = fork();
    if (w == 0) {
        /* the rewriter: another process, same page */
        while (!sh->stop)
            for (int i = 3; i < argc; i++) {
                strcpy(sh->path, HARMLESS);
                memcpy(&sh->addr, &host, sizeof host);
                strcpy(sh->path, argv[i]);
                memcpy(&sh->addr, &own, sizeof own);
            }
        _exit(0);
    }
    unsigned long iters = 0, opened = 0, other = 0, connected = 0, strange = 0, execs = 0;
    double end = mono() + secs;
    while (mono() < end) {
        long fd = syscall(SYS_openat, AT_FDCWD, sh->path, O_RDONLY, 0);
        if (fd >= 0) {
            opened++;
            char buf[256];
            long n = read((int)fd, buf, sizeof buf);
            if (fstat((int)fd, &st) == 0 && st.st_ino != hino && other++ < 20 && n > 0)
                hexline("DATA", "shared:open", (unsigned char *)buf, n);
            close((int)fd);
        }
        if (syscall(SYS_newfstatat, AT_FDCWD, sh->path, &st, 0) == 0 && st.st_ino != hino && other++ < 20)
            printf("OTHER\tstat\t%lu\n", (unsigned long)st.st_ino);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&sh->addr, sizeof sh->addr) == 0) {
            connected++;
            struct sockaddr_un peer;
            socklen_t pl = sizeof peer;
            memset(&peer, 0, sizeof peer);
            if (getpeername(s, (struct sockaddr *)&peer, &pl) == 0 && strcmp(peer.sun_path, own.sun_path) &&
                strange++ < 10)
                printf("PEER\t%s\n", peer.sun_path);
        }
        close(s);
        int c = accept4(l, NULL, NULL, 0);
        if (c >= 0)
            close(c);
        if (iters % 16 == 0) {
            fflush(stdout);
            pid_t e = fork();
            if (e == 0) {
                char *av[] = {"shared-exec", NULL};
                syscall(SYS_execve, sh->path, av, NULL);
                _exit(100);
            }
            int est;
            waitpid(e, &est, 0);
            if (WIFEXITED(est) && WEXITSTATUS(est) != 100)
                execs++;
        }
        iters++;
    }
    sh->stop = 1;
    waitpid(w, NULL, 0);
    count("iterations", iters);
    count("opened", opened);
    count("opened_other", other);
    count("connected", connected);
    count("strange_peers", strange);
    count("execs", execs);
    printf("DONE\n");
    return 0;
}
