/* vsyscall: enters the kernel through the legacy vsyscall page at
 * 0xffffffffff600000, whose emulation runs gettimeofday (+0x000), time
 * (+0x400) and getcpu (+0x800) outside the normal `syscall` entry. It calls
 * each entry with rax, rdi and rsi loaded as for other calls (openat of a
 * host secret, getuid, mkdir of a host path), calls into the middle of an
 * entry and past the last one, reads and writes the page, and tries to
 * mprotect, munmap, mremap and MAP_FIXED over it. Every attempt runs in a
 * forked child; the parent reports how the child ended
 * ("CHILD <name> exit N" or "CHILD <name> signal N").
 * Usage: vsyscall SECRETPATH CREATEPATH
 *
 * What should stop it: the kernel picks the emulated call from the entry
 * address alone (rax is ignored) and runs it through seccomp like any other
 * call (gettimeofday is ABI, time and getcpu are trapped and served); a jump
 * anywhere else, a read or a write of the page is SIGSEGV; the page lies
 * above user space, so it cannot be remapped or unmapped.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>

#define VSYS 0xffffffffff600000UL

static long vcall(unsigned long addr, long rax, long rdi, long rsi)
{
    long ret;
    __asm__ volatile("call *%1"
                     : "=a"(ret)
                     : "r"(addr), "a"(rax), "D"(rdi), "S"(rsi)
                     : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory");
    return ret;
}

static void in_child(const char *name, void (*fn)(const char *), const char *arg)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        fn(arg);
        fflush(stdout);
        _exit(0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    if (WIFSIGNALED(st))
        printf("CHILD\t%s\tsignal\t%d\n", name, WTERMSIG(st));
    else
        printf("CHILD\t%s\texit\t%d\n", name, WEXITSTATUS(st));
    fflush(stdout);
}

static char pathbuf[4096];

static void gtod_with_open(const char *path)
{
    /* rax = openat, rdi = the path: the entry ignores rax and runs
     * gettimeofday(rdi, rsi), which writes a timeval over the path */
    snprintf(pathbuf, sizeof pathbuf, "%s", path);
    long r = vcall(VSYS, SYS_open, (long)pathbuf, O_RDONLY);
    printf("R\tgtod_as_open\t%ld\t%s\n", r, r < 0 ? ename((int)-r) : "OK");
    struct timeval *tv = (struct timeval *)pathbuf;
    printf("GTOD\t%ld\n", (long)tv->tv_sec);
}

static void time_entry(const char *arg)
{
    (void)arg;
    long r = vcall(VSYS + 0x400, SYS_getuid, 0, 0);
    printf("VTIME\t%ld\n", r);
}

static void time_with_ptr(const char *path)
{
    /* time(rdi): writes the time through rdi; rax = mkdir is ignored */
    snprintf(pathbuf, sizeof pathbuf, "%s", path);
    long r = vcall(VSYS + 0x400, SYS_mkdir, (long)pathbuf, 0755);
    printf("R\ttime_as_mkdir\t%ld\tOK\n", r);
}

static void getcpu_entry(const char *arg)
{
    (void)arg;
    unsigned cpu = 12345, node = 12345;
    long r = vcall(VSYS + 0x800, SYS_getuid, (long)&cpu, (long)&node);
    printf("R\tvgetcpu\t%ld\t%s\n", r, r < 0 ? ename((int)-r) : "OK");
    printf("VCPU\t%u\t%u\n", cpu, node);
}

static void gtod_kernel_ptr(const char *arg)
{
    (void)arg;
    long r = vcall(VSYS, 0, (long)0xffffffff81000000UL, 0);
    printf("R\tgtod_kernel_ptr\t%ld\t%s\n", r, r < 0 ? ename((int)-r) : "OK");
}

static void mid_entry(const char *arg)
{
    unsigned long off = strtoul(arg, NULL, 0);
    long r = vcall(VSYS + off, SYS_getuid, 0, 0);
    printf("R\tmid_entry_returned\t%ld\tOK\n", r);
}

static void read_page(const char *arg)
{
    (void)arg;
    volatile unsigned char *p = (volatile unsigned char *)VSYS;
    printf("READ\t%02x\n", p[0]);
}

static void write_page(const char *arg)
{
    (void)arg;
    volatile unsigned char *p = (volatile unsigned char *)VSYS;
    p[0] = 0xcc;
    printf("WROTE\n");
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    in_child("gtod_as_open", gtod_with_open, argv[1]);
    in_child("time_entry", time_entry, NULL);
    in_child("time_as_mkdir", time_with_ptr, argv[2]);
    in_child("getcpu_entry", getcpu_entry, NULL);
    in_child("gtod_kernel_ptr", gtod_kernel_ptr, NULL);
    in_child("mid_entry_1", mid_entry, "0x1");
    in_child("mid_entry_405", mid_entry, "0x405");
    in_child("mid_entry_c00", mid_entry, "0xc00");
    in_child("mid_entry_ff0", mid_entry, "0xff0");
    in_child("read_page", read_page, NULL);
    in_child("write_page", write_page, NULL);
    REPORT("mprotect_vsyscall_rwx", mprotect((void *)VSYS, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
    REPORT("munmap_vsyscall", munmap((void *)VSYS, 4096));
    REPORT("mremap_vsyscall", mremap((void *)VSYS, 4096, 4096, 0) == MAP_FAILED ? -1 : 0);
    REPORT("mmap_fixed_vsyscall",
           mmap((void *)VSYS, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
                   MAP_FAILED
               ? -1
               : 0);
    REPORT("madvise_vsyscall", madvise((void *)VSYS, 4096, MADV_DONTNEED));
    in_child("after_remap_attempts", time_entry, NULL);
    printf("DONE\n");
    return 0;
}
