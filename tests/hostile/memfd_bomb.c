/* memfd_bomb: takes memory that lies in no process's address space, where
 * RLIMIT_AS cannot see it: memfd files grown with write(2) (never mapped),
 * System V shared memory segments touched and then detached (they live on
 * without any attachment), and files in /dev/shm. Reports progress as it
 * goes ("HELD <kind> <MB>" every 16 MB).
 * Usage: memfd_bomb MAX_MB TAG   (TAG only names the process for the host)
 *
 * What should stop it: limits.memory_mb must bound the sandbox's memory as
 * a whole, file-backed shared memory included (a memory cgroup charges
 * shmem pages to it): the writes fail or the program is killed well before
 * MAX_MB when the limit is smaller; /dev/shm is also bounded by the
 * writable layer's size.
 */
#include "hostile.h"
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

static char chunk[1 << 20];

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    long max = atol(argv[1]), held = 0;
    memset(chunk, 'M', sizeof chunk);
    int fd = -1;
    while (held < max) {
        if (held % 64 == 0)
            fd = (int)syscall(SYS_memfd_create, "bomb", 0);
        if (fd < 0 || write(fd, chunk, sizeof chunk) != sizeof chunk) {
            printf("STOPPED\tmemfd\t%ld\t%s\n", held, ename(errno));
            break;
        }
        held++;
        if (held % 16 == 0) {
            printf("HELD\tmemfd\t%ld\n", held);
            fflush(stdout);
        }
    }
    while (held < max) {
        int id = shmget(IPC_PRIVATE, 16 << 20, IPC_CREAT | 0600);
        char *p = id >= 0 ? shmat(id, NULL, 0) : (char *)-1;
        if (p == (char *)-1) {
            printf("STOPPED\tshm\t%ld\t%s\n", held, ename(errno));
            break;
        }
        memset(p, 'S', 16 << 20);
        shmdt(p);
        held += 16;
        printf("HELD\tshm\t%ld\n", held);
        fflush(stdout);
    }
    int f = (int)syscall(SYS_openat, AT_FDCWD, "/dev/shm/bomb", O_CREAT | O_WRONLY, 0600);
    while (held < max) {
        if (write(f, chunk, sizeof chunk) != sizeof chunk) {
            printf("STOPPED\tdevshm\t%ld\t%s\n", held, ename(errno));
            break;
        }
        held++;
        if (held % 16 == 0) {
            printf("HELD\tdevshm\t%ld\n", held);
            fflush(stdout);
        }
    }
    printf("END\t%ld\n", held);
    return 0;
}
