/* mmap_odd: the memory calls of the ABI (mmap, mprotect, mremap, munmap,
 * madvise: no argument checks) aimed at odd regions: the vvar pages (time
 * data the kernel shares with every process: writing them would skew every
 * host clock reading) and the vDSO: mprotect writable, write, MAP_FIXED over
 * them, mremap and munmap them and then read the clock; MAP_FIXED at
 * address 0 and at the top of user space, a hint above 47 bits, page
 * poisoning (MADV_HWPOISON, MADV_SOFT_OFFLINE, which take a host physical
 * page offline), a shared writable mapping of a sealed /proc file and of a
 * file opened read-only, and mprotect to writable of a shared read-only
 * file mapping. Writes and clock reads after a remap run in forked children
 * ("CHILD <name> exit|signal N"), each ended by SIGALRM after 2 s if it spins.
 * Usage: mmap_odd RO_FILE
 *
 * What should stop it: these calls only ever act on the caller's own
 * address space; the vvar pages cannot be made writable (no VM_MAYWRITE) and
 * remapping them only changes the caller's view; the low and kernel halves
 * are out of reach (mmap_min_addr, TASK_SIZE); poisoning needs
 * CAP_SYS_ADMIN; the kernel refuses shared writable mappings of sealed or
 * read-only files. The host's clock must be unaffected.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static unsigned long vvar_lo, vvar_hi, vdso_lo, vdso_hi;

static void find_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
            continue;
        if (strstr(line, "[vvar")) {
            if (!vvar_lo || lo < vvar_lo)
                vvar_lo = lo;
            if (hi > vvar_hi)
                vvar_hi = hi;
        } else if (strstr(line, "[vdso]")) {
            vdso_lo = lo;
            vdso_hi = hi;
        }
    }
    fclose(f);
}

static void child(const char *name, void (*fn)(void))
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        alarm(2); /* a clock read through garbage vvar data may spin forever */
        fn();
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

static void write_vvar(void)
{
    volatile unsigned long *p = (volatile unsigned long *)vvar_lo;
    for (unsigned long a = vvar_lo; a < vvar_hi; a += sizeof(long))
        p[(a - vvar_lo) / sizeof(long)] = 0x4141414141414141UL;
    printf("WROTE-VVAR\n");
}

static void clock_read(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("CLOCK\t%ld\n", (long)ts.tv_sec);
}

static void fixed_over_vvar(void)
{
    void *r = mmap((void *)vvar_lo, vvar_hi - vvar_lo, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    printf("R\tmap_fixed_over_vvar\t%ld\t%s\n", r == MAP_FAILED ? -1L : 0L, r == MAP_FAILED ? ename(errno) : "OK");
    if (r != MAP_FAILED)
        memset(r, 0x41, vvar_hi - vvar_lo);
    clock_read();
}

static void fixed_over_vdso(void)
{
    void *r = mmap((void *)vdso_lo, vdso_hi - vdso_lo, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("R\tmap_fixed_over_vdso\t%ld\t%s\n", r == MAP_FAILED ? -1L : 0L, r == MAP_FAILED ? ename(errno) : "OK");
    if (r != MAP_FAILED)
        memset(r, 0xcc, vdso_hi - vdso_lo); /* int3 all over the vDSO */
    clock_read();
}

static void patch_vdso(void)
{
    int r = mprotect((void *)vdso_lo, vdso_hi - vdso_lo, PROT_READ | PROT_WRITE | PROT_EXEC);
    printf("R\tmprotect_vdso_rwx\t%d\t%s\n", r, r ? ename(errno) : "OK");
    if (r == 0) {
        memset((void *)(vdso_lo + 0x800), 0xcc, 64);
        printf("PATCHED-VDSO\n");
    }
    fflush(stdout);
    /* the patch must stay in this process: a fork sees its own copy, and the
     * parent's (and the host's) vDSO is untouched */
    clock_read();
}

static void unmap_vdso(void)
{
    int r = munmap((void *)vdso_lo, vdso_hi - vdso_lo);
    int r2 = munmap((void *)vvar_lo, vvar_hi - vvar_lo);
    printf("R\tmunmap_vdso\t%d\t%s\n", r, r ? ename(errno) : "OK");
    printf("R\tmunmap_vvar\t%d\t%s\n", r2, r2 ? ename(errno) : "OK");
    fflush(stdout);
    clock_read();
}

static void remap_vvar(void)
{
    void *r = mremap((void *)vvar_lo, vvar_hi - vvar_lo, vvar_hi - vvar_lo, MREMAP_MAYMOVE);
    printf("R\tmremap_vvar\t%ld\t%s\n", r == MAP_FAILED ? -1L : 0L, r == MAP_FAILED ? ename(errno) : "OK");
    void *d = mremap((void *)vdso_lo, vdso_hi - vdso_lo, vdso_hi - vdso_lo, MREMAP_MAYMOVE);
    printf("R\tmremap_vdso\t%ld\t%s\n", d == MAP_FAILED ? -1L : 0L, d == MAP_FAILED ? ename(errno) : "OK");
    fflush(stdout);
    clock_read();
}

#define MAPR(name, expr)                                        \
    do {                                                        \
        errno = 0;                                              \
        void *_m = (expr);                                      \
        report((name), _m == MAP_FAILED ? -1 : 0, errno);       \
        if (_m != MAP_FAILED)                                   \
            printf("ADDR\t%s\t%p\n", (name), _m);               \
    } while (0)

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    find_maps();
    printf("VVAR\t%lx\t%lx\nVDSO\t%lx\t%lx\n", vvar_lo, vvar_hi, vdso_lo, vdso_hi);
    clock_read();
    if (vvar_lo) {
        REPORT("mprotect_vvar_rw", mprotect((void *)vvar_lo, vvar_hi - vvar_lo, PROT_READ | PROT_WRITE));
        REPORT("madvise_vvar_dontneed", madvise((void *)vvar_lo, vvar_hi - vvar_lo, MADV_DONTNEED));
        REPORT("madvise_vvar_remove", madvise((void *)vvar_lo, vvar_hi - vvar_lo, MADV_REMOVE));
        child("write_vvar", write_vvar);
        child("fixed_over_vvar", fixed_over_vvar);
        child("remap_vvar", remap_vvar);
    }
    if (vdso_lo) {
        child("fixed_over_vdso", fixed_over_vdso);
        child("patch_vdso", patch_vdso);
        child("unmap_vdso", unmap_vdso);
    }
    clock_read(); /* the parent's own clock after its children's games */
    MAPR("map_fixed_zero", mmap(NULL + 0, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MAPR("map_fixed_4096", mmap((void *)4096, 4096, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MAPR("map_fixed_top", mmap((void *)(1UL << 47), 4096, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MAPR("map_fixed_below_top",
         mmap((void *)((1UL << 47) - 4096), 8192, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MAPR("map_fixed_kernel",
         mmap((void *)0xffffffff81000000UL, 4096, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MAPR("map_hint_57bit", mmap((void *)(1UL << 56), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    MAPR("map_fixed_noreplace_vdso",
         mmap((void *)vdso_lo, 4096, PROT_READ, MAP_FIXED_NOREPLACE | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    REPORT("madvise_hwpoison", madvise(page, 4096, 100 /* MADV_HWPOISON */));
    REPORT("madvise_soft_offline", madvise(page, 4096, 101 /* MADV_SOFT_OFFLINE */));
    REPORT("mlock_vvar", vvar_lo ? mlock((void *)vvar_lo, 4096) : -1);
    errno = 0;
    long pfd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY, 0);
    report("open_proc_status", pfd, errno);
    MAPR("map_shared_write_proc", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)pfd, 0));
    REPORT("ftruncate_proc", ftruncate((int)pfd, 0));
    REPORT("write_proc_fd", write((int)pfd, "x", 1));
    REPORT("remove_seals", fcntl((int)pfd, F_ADD_SEALS, 0));
    errno = 0;
    long rfd = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY, 0);
    report("open_ro_file", rfd, errno);
    MAPR("map_shared_write_ro", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)rfd, 0));
    void *rm = mmap(NULL, 4096, PROT_READ, MAP_SHARED, (int)rfd, 0);
    REPORT("map_shared_read_ro", rm == MAP_FAILED ? -1 : 0);
    if (rm != MAP_FAILED)
        REPORT("mprotect_shared_ro_to_write", mprotect(rm, 4096, PROT_READ | PROT_WRITE));
    MAPR("map_private_write_ro", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, (int)rfd, 0));
    REPORT("remap_file_pages", syscall(216, page, 4096, 0, 0, 0));
    clock_read();
    printf("DONE\n");
    return 0;
}
