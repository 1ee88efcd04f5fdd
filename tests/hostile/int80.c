/* int80: uses the i386 system-call entry (`int $0x80`) from a 64-bit
 * program, where call numbers and argument registers differ from x86_64:
 * a filter that only compares x86_64 numbers would let i386 open (5),
 * read (3) and write (4) straight to the kernel, bypassing the library OS.
 * Usage: int80 direct PATH [CREATE]  -- i386 open(PATH) and dump it through
 *                                       i386 write; then i386 open(CREATE,
 *                                       O_CREAT|O_WRONLY) and write to it
 *        int80 child PATH [CREATE]   -- the same in a forked child; the
 *                                       parent reports how the child ended
 * Output: "BEFORE" then, only if the kernel let the calls through,
 * "AFTER-OPEN"/"AFTER-CREATE" lines and the file's bytes.
 *
 * What should stop it: the seccomp filter's first check, the audit
 * architecture: anything but AUDIT_ARCH_X86_64 is SECCOMP_RET_KILL_PROCESS,
 * so the process dies of SIGSYS at the first `int $0x80` and nothing is
 * opened, read or created.
 */
#include "hostile.h"
#include <sys/mman.h>
#include <sys/wait.h>

static long int80(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

static void attack(const char *path, const char *create)
{
    /* i386 pointers are 32-bit: everything lives below 4 GiB */
    char *low = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (low == MAP_FAILED)
        _exit(3);
    strcpy(low, path);
    long fd = int80(5 /* i386 open */, (long)low, O_RDONLY, 0);
    printf("AFTER-OPEN\t%ld\n", fd);
    fflush(stdout);
    if (fd >= 0) {
        long n = int80(3 /* i386 read */, fd, (long)(low + 4096), 60000);
        int80(4 /* i386 write */, 1, (long)(low + 4096), n > 0 ? n : 0);
    }
    if (create) {
        strcpy(low, create);
        long cfd = int80(5, (long)low, O_CREAT | O_WRONLY, 0644);
        printf("AFTER-CREATE\t%ld\n", cfd);
        fflush(stdout);
        if (cfd >= 0)
            int80(4, cfd, (long)"int80 was here\n", 15);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    printf("BEFORE\n");
    fflush(stdout);
    if (!strcmp(argv[1], "child")) {
        pid_t p = fork();
        if (p == 0) {
            attack(argv[2], argc > 3 ? argv[3] : NULL);
            _exit(0);
        }
        int st = 0;
        waitpid(p, &st, 0);
        printf("CHILD\t%s\t%d\n", WIFSIGNALED(st) ? "signal" : "exit",
               WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        printf("PARENT-ALIVE\n");
        return 0;
    }
    attack(argv[2], argc > 3 ? argv[3] : NULL);
    printf("SURVIVED\n");
    return 0;
}
