/* lease: takes a file lease (fcntl F_SETLEASE) on host files it was only
 * allowed to read: a file of a read-only host mount, and a host system
 * file seen through the /usr or /etc overlay. A read lease makes the kernel
 * hold back every other opener for writing (O_NONBLOCK: EWOULDBLOCK; a
 * blocking open waits up to /proc/sys/fs/lease-break-time, 45 s by default)
 * until the holder gives the lease up, which it never does: it ignores
 * SIGIO, the lease-break notice, and sleeps. On its own writable-layer file
 * it takes a write lease too (harmless, its own file).
 * Usage: lease SECONDS FILE...
 * Output: one R line per F_SETLEASE, READY, then it sleeps SECONDS.
 *
 * What should stop it: the sandbox is granted reading, not a say over who
 * else may write the host's file: a lease on a file outside the writable
 * layer must be refused (the kernel grants it to the file's owner, and the
 * sandbox runs as the invoking user, who owns it), so the host's own
 * writers are never held back.
 */
#include "hostile.h"
#include <signal.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    signal(SIGIO, SIG_IGN);
    for (int i = 2; i < argc; i++) {
        char n[4200];
        errno = 0;
        long fd = syscall(SYS_openat, AT_FDCWD, argv[i], O_RDONLY, 0);
        snprintf(n, sizeof n, "open:%s", argv[i]);
        report(n, fd, errno);
        if (fd < 0)
            continue;
        snprintf(n, sizeof n, "rdlease:%s", argv[i]);
        REPORT(n, syscall(SYS_fcntl, fd, F_SETLEASE, F_RDLCK));
    }
    errno = 0;
    long own = syscall(SYS_openat, AT_FDCWD, "/tmp/lease-own", O_RDWR | O_CREAT, 0600);
    REPORT("wrlease:own", syscall(SYS_fcntl, own, F_SETLEASE, F_WRLCK));
    printf("READY\n");
    fflush(stdout);
    struct timespec ts = {atoi(argv[1]), 0};
    nanosleep(&ts, NULL);
    printf("DONE\n");
    return 0;
}
