/* fuzz: a system-call fuzzer that runs INSIDE a motte sandbox and feeds the
 * library OS random and mutated system calls (tests/test_fuzz.py judges the
 * run from the host side; tools/fuzz.py runs it for longer).
 *
 *   fuzz --seconds S --seed N [--workers W] [--steps K] [--tag T]
 *   fuzz --replay SEED [--steps K]       one worker in the foreground, each
 *                                        call on stderr (for reproductions)
 *
 * Process tree inside the sandbox:
 *
 *   pid 1  the parent: issues no fuzzed call. It starts the prober and W
 *          workers, restarts every worker that ends (its step budget spent,
 *          crashed on a bad mmap/mprotect, exec'd /bin/true, ...) with the
 *          next seed until S seconds have passed, kills a worker that made
 *          no progress for STUCK_SECONDS, and prints the summary.
 *   prober a second process that every PROBE_MS asks the library OS a
 *          trapped question (stat of /etc/hostname, getuid) and prints how
 *          long the answer took: "PROBE <seq> <latency_us> <ok>". If the
 *          library OS deadlocks, these lines stop.
 *   worker runs K steps from its own seed. A step is one call (a number and
 *          arguments drawn from the signature table below, mutated now and
 *          then) or a short recipe that creates an object (file, directory,
 *          FIFO, pipe, socket, memfd, /proc fd, ...) and uses it in the
 *          calls after. Arguments come from pools: the worker's live fds,
 *          paths ("/etc/passwd", "/proc/self/fd/0", "../../..", 4096-byte
 *          paths, mutated copies), its own buffers, a page of random bytes,
 *          read-only, PROT_NONE, unmapped and kernel addresses.
 *
 * Reproducible: worker g of a run with seed N gets seed mix(N, g) (printed
 * in DIED and STUCK lines), and step i of a worker draws from (seed, i)
 * alone, so `--replay SEED` issues the same calls; only values a call takes
 * from an earlier result (a fd it opened) and the environment (other
 * workers, timing) can differ.
 *
 * What a worker never does (so that a run is not useless in a trivial way):
 *   - the DENYLIST numbers: rt_sigreturn (15), exit (60), exit_group (231),
 *     uretprobe (335) and uprobe (336) (kernels >= 6.11 run these two before
 *     seccomp: they never reach the library OS and only SIGILL the caller);
 *   - signal a process it does not own: kill, tkill, tgkill,
 *     rt_(tg)sigqueueinfo, pidfd_open, prlimit64, sched_set*, setpriority,
 *     ioprio_set and fcntl(F_SETOWN) target only the worker itself (with a
 *     harmless signal), its own "victim" child, pid 1 (harmless signals
 *     only), -1 (signal 0 only) or pids that do not exist;
 *   - touch memory it runs on: mmap(MAP_FIXED), munmap, mprotect, mremap,
 *     madvise, mlock, mseal, shmat... get addresses in a 16 MiB arena of its
 *     own (or NULL, unmapped and kernel addresses), lengths clamped to it;
 *     arch_prctl(ARCH_SET_FS) becomes ARCH_GET_FS;
 *   - make itself deaf: rt_sigaction of SIGALRM (its watchdog tick) becomes
 *     SIGUSR1, rt_sigsuspend gets an empty mask, seccomp/prctl strict mode
 *     becomes filter mode;
 *   - leave a forked child running the fuzzer: fork, vfork, clone and clone3
 *     are issued so that the child calls exit(2) at once (on whatever stack
 *     it has), CLONE_VM only with CLONE_VFORK, exit signal SIGCHLD or 0;
 *   - exec anything with its own argv: execve/execveat get argv/envp that
 *     make this program exit at once if it is what gets exec'd.
 * Everything else (number 0..469, out-of-range and x32 numbers) is fair.
 *
 * Output (stdout, one write(2) per line, tab-separated):
 *   PROBE seq latency_us ok
 *   STATUS elapsed_s calls distinct           every second
 *   DIED slot pid seed step sig nr a0..a5 ret a worker killed by a signal, its last call
 *   STUCK ... (the same)                      a worker the parent killed: no call returned
 *                                             for STUCK_SECONDS
 *   SPOILT slot pid ...                       a worker's calls overwrote its own shared
 *                                             page (its counts are left out)
 *   FUZZ-SUMMARY seed=.. seconds=.. calls=.. distinct=.. (of 0..469) ...
 *   FUZZ-REACHED n,n,n,...                    the numbers that returned
 *
 * No process depends on memory a fuzzing process can reach: each worker
 * has one shared page of its own (it unmaps the others'), the prober one,
 * and the parent keeps its bookkeeping private and ends the run by SIGKILL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define MAXW 16
#define NREACH 1024
#define RING 16
#define ARENA_SIZE (16UL << 20)
#define PROBE_MS 50
#define STUCK_SECONDS 3
#define POOL 48
#define MUTS 4

/* ------------------------------------------------------------------ shared */

struct ring_entry {
    long nr, a[6], ret;
};

/* What a worker shares with the parent: one page of its own, between
 * canaries. A worker unmaps every other process's page as it starts, so
 * whatever its calls do to its memory, it can spoil its own counts at most
 * (the parent then discards them and says so), never the parent's, the
 * prober's or another worker's. */
#define CANARY 0x66757a7a63616e61ULL
struct slot {
    uint64_t canary;
    volatile uint64_t seed;
    volatile uint64_t step;
    volatile uint64_t progress; /* calls issued */
    volatile uint64_t out_of_range;
    volatile uint64_t ring_pos;
    struct ring_entry ring[RING];
    volatile uint8_t reached[NREACH];
    uint64_t canary2;
};

struct probe_page {
    volatile uint64_t probes, probe_max_us, probe_bad;
};

static struct slot *slots[MAXW];  /* the parent's view: one mapping each */
static struct probe_page *probe_pg;
static struct slot *me;            /* the worker's own */
static int verbose;
static pid_t my_pid, victim, prober_pid;
static uint64_t rng;

/* ------------------------------------------------------------ raw syscalls */

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

/* fork, vfork, clone, clone3: a child (rax == 0) calls exit(2) at once,
 * without touching memory, on whatever stack it got. */
static long sys6_fork(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "1:\n\t"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define S0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define S1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define S4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static void put(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        long w = S3(SYS_write, 1, s, n);
        if (w == -EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    S2(SYS_nanosleep, &ts, 0);
}

/* ---------------------------------------------------------------- randomness */

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }
static int chance(int percent) { return (int)below(100) < percent; }
#define PICK(arr) (arr[below(sizeof(arr) / sizeof(arr[0]))])

/* ----------------------------------------------------------------- memory */

/* Every buffer a call may be given lives in one mapping, its parts between
 * PROT_NONE guard pages and the whole between GUARD-sized ones: a call told
 * to write 1 TiB into a buffer stops at the guard (EFAULT or a short count)
 * instead of overwriting the fuzzer. The library OS writes through
 * /proc/PID/mem, which ignores page protections, so the outer guards are
 * wider than the longest write it makes (getgroups: 256 KiB). */
#define GUARD (1UL << 20)
typedef char bufs_t[65536];
typedef char mut_t[8192];
static bufs_t *bufs;            /* 4 x 64 KiB */
static unsigned char *randpage; /* a page of random bytes, redrawn now and then */
static mut_t *mutbuf;           /* MUTS mutated paths */
static mut_t *longpath;         /* 3 over-long paths */
static char *sabuf;             /* a sockaddr */
static struct iovec *iov;       /* 8 iovecs */
static struct timespec *tsbuf;  /* 4 timespecs */
static char (*procfd)[64];      /* MUTS "/proc/self/fd/N" paths */
static uint64_t *zero_sigset;   /* an empty signal mask */
static char **safe_argv, **safe_envp;
static char *zone;
static size_t zone_size;
static char *arena, *hole, *edge_page, *ro_page, *none_page;
static int no_fifos;            /* --no-fifos: make no FIFO (to look past a known FIFO deadlock) */
static long tick_timer = -1;    /* the worker's POSIX timer: SIGALRM every 100 ms */

static const unsigned long KERNEL_PTRS[] = {
    0xffffffff81000000UL, 0xffff888000000000UL, 0x8000000000000000UL,
    0xfffffffffffff000UL, 0x0000800000000000UL, 0x00007ffffffff000UL,
    0xffffffffffffffffUL, 0x0000800000000000UL - 1,
};

static const char *PATHS[] = {
    "/etc/passwd", "/etc/hostname", "/etc/shadow", "/etc/group", "/etc/hosts", "/etc", "/", "",
    ".", "..", "../../..", "../../../etc/passwd", "./../.././proc/self/status",
    "/proc", "/proc/", "/proc/self", "/proc/self/", "/proc/self/fd", "/proc/self/fd/0",
    "/proc/self/fd/1", "/proc/self/fd/3", "/proc/self/fd/4", "/proc/self/fd/5", "/proc/self/fd/7",
    "/proc/self/fd/9", "/proc/self/fd/-1", "/proc/self/fd/99999999999999999999",
    "/proc/self/fdinfo/0", "/proc/self/fdinfo/3", "/proc/self/status", "/proc/self/stat",
    "/proc/self/maps", "/proc/self/mem", "/proc/self/exe", "/proc/self/cwd", "/proc/self/cwd/",
    "/proc/self/root", "/proc/self/root/etc/passwd", "/proc/self/cwd/../..", "/proc/self/task",
    "/proc/self/task/1/status", "/proc/self/environ", "/proc/self/cmdline", "/proc/self/limits",
    "/proc/self/mounts", "/proc/self/mountinfo", "/proc/self/comm", "/proc/thread-self",
    "/proc/thread-self/status", "/proc/1", "/proc/1/status", "/proc/1/fd", "/proc/1/fd/1",
    "/proc/1/cwd", "/proc/1/exe", "/proc/2/status", "/proc/3/fd/0", "/proc/9999/status",
    "/proc/0/status", "/proc/-1/status", "/proc/sys", "/proc/sys/kernel/hostname",
    "/proc/sys/kernel/random/uuid", "/proc/sys/kernel", "/proc/sys/fs/nr_open", "/proc/mounts",
    "/proc/net", "/proc/net/tcp", "/proc/version", "/proc/uptime", "/proc/meminfo",
    "/proc/cpuinfo", "/proc/loadavg", "/proc/stat", "/proc/filesystems", "/proc/cmdline",
    "/proc/kcore", "/proc/sysrq-trigger", "/proc/../etc/passwd", "/proc/self/../..",
    "/proc/self/fd/0/..", "/proc/self/task/../../..", "//proc//self//status", "/./proc/./self",
    "/proc/\xc2\xb2/status", "/proc/self/fd/\xc2\xb2", "/proc/\xd9\xa1/status",
    "/proc/self/fdinfo/\xc2\xb9", "/proc/\xff\xfe", "/proc/self/task/\xc2\xb2",
    "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
    "/dev/ptmx", "/dev/pts", "/dev/pts/ptmx", "/dev/pts/0", "/dev/shm", "/dev/shm/x",
    "/dev/fd/0", "/dev/fd/3", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/mem",
    "/dev/kmsg", "/dev/sda", "/sys", "/sys/kernel", "/host", "/root", "/root/.bashrc",
    "/work", "/work/main", "/home", "/home/user", "/home/user/f1", "/var", "/var/tmp",
    "/.motte-proc", "/.motte-proc/1", "/.motte-proc/../..",
    "/t", "/t/fuzz", "/bin/true", "/bin/sh", "/usr/bin/env", "/usr/bin", "/usr/lib",
    "/lib64/ld-linux-x86-64.so.2", "/etc/passwd/", "/etc/passwd/.", "/etc/./passwd",
    "/tmp", "/tmp/", "/tmp/f1", "/tmp/f2", "/tmp/d1", "/tmp/d1/f", "/tmp/d1/d2", "/tmp/fifo",
    "/tmp/sock", "/tmp/link", "/tmp/loop1", "/tmp/loop2", "/tmp/proclink", "/tmp/\xff\xfe\xc0\x80",
    "/tmp/..", "/tmp/.", "/tmp/d1/../../etc/passwd",
    "/scratch", "/scratch/", "/scratch/f1", "/scratch/f2", "/scratch/d1", "/scratch/d1/f",
    "/scratch/fifo", "/scratch/sock", "/scratch/link", "/scratch/loop1", "/scratch/..",
    "f1", "f2", "d1", "d1/f", "d1/d2", "d1/..", "fifo", "sock", "link", "loop1", "loop2",
    "proclink", "hard", "a", "x",
};

static const char *NAMES[] = {
    "user.x", "user.motte", "trusted.x", "security.capability", "security.selinux",
    "system.posix_acl_access", "system.posix_acl_default", "", "user.", "x", "fuzz",
    "/dev/shm/x", "/mq1", "mq1", "/", "memfd:fuzz",
};

static const char *LINK_TARGETS[] = {
    "/etc/passwd", "/proc/self/cwd/proclink", "/proc/self/root/etc/shadow", "/proc/self/fd/0",
    "../../../../../../etc/shadow", "/root", "/work/main", "loop2", "loop1", "/tmp/loop1",
    "/proc/1/cwd", "/proc/self/exe", "/.motte-proc/1", "/tmp", "d1", "/scratch/d1", ".", "..",
    "/proc/self/cwd/../../..", "/proc", "/proc/self/fd",
};

/* ------------------------------------------------------------------- pools */

static long pool[POOL];
static int npool;

static void pool_add(long fd)
{
    if (fd < 0 || fd > 100000)
        return;
    for (int i = 0; i < npool; i++)
        if (pool[i] == fd)
            return;
    if (npool < POOL) {
        pool[npool++] = fd;
    } else {
        int i = (int)below(POOL);
        S1(SYS_close, pool[i]);
        pool[i] = fd;
    }
}

static long any_pool_fd(void) { return npool ? pool[below((uint64_t)npool)] : (long)below(8); }

static long pick_fd(void)
{
    static const long odd[] = {-1, -100, 0x7fffffff, 0x100000003L, -5, (long)(int)0x80000000, 255, 1023, 65536};
    int r = (int)below(100);
    if (r < 75)
        return any_pool_fd();
    if (r < 85)
        return (long)below(3);
    if (r < 92)
        return (long)below(64);
    return PICK(odd);
}

static long pick_dirfd(void)
{
    int r = (int)below(100);
    if (r < 45)
        return AT_FDCWD;
    return pick_fd();
}

static char *mutate(const char *src)
{
    char *b = mutbuf[below(MUTS)];
    size_t n = strlen(src);
    if (n > 4000)
        n = 4000;
    memcpy(b, src, n);
    b[n] = 0;
    int rounds = 1 + (int)below(3);
    for (int r = 0; r < rounds; r++) {
        n = strlen(b);
        static const char *ins[] = {"/..", "/.", "//", "/proc", "/self", "/../..", "/proc/self/cwd", "/fd/3",
                                    "\xc2\xb2", "\xd9\xa1", "\xff", "/", "/tmp", "/x", "/..//../etc"};
        switch (below(9)) {
        case 0: /* overwrite one byte */
            if (n)
                b[below(n)] = (char)(below(255) + 1);
            break;
        case 1: /* truncate */
            if (n)
                b[below(n)] = 0;
            break;
        case 2: { /* insert */
            const char *s = PICK(ins);
            size_t k = strlen(s), at = below(n + 1);
            if (n + k < 4090) {
                memmove(b + at + k, b + at, n - at + 1);
                memcpy(b + at, s, k);
            }
            break;
        }
        case 3: /* append / */
            if (n < 4090)
                strcat(b, "/");
            break;
        case 4: /* prefix */
            if (n < 4000) {
                static const char *pre[] = {"/proc/self/root", "/proc/self/cwd/", "/proc/1/root",
                                            "/proc/self/fd/3/", "../", "/.motte-proc/"};
                const char *p = PICK(pre);
                size_t k = strlen(p);
                memmove(b + k, b, n + 1);
                memcpy(b, p, k);
            }
            break;
        case 5: /* a fd of ours as a /proc path */
            snprintf(b, 64, "/proc/%s/fd/%ld%s", chance(80) ? "self" : "1", any_pool_fd(),
                     chance(20) ? "/" : "");
            break;
        case 6: /* our victim's /proc */
            snprintf(b, 64, "/proc/%d/%s", (int)victim,
                     chance(50) ? "status" : chance(50) ? "fd/0" : "cwd");
            break;
        case 7: /* duplicate the string */
            if (n && 2 * n + 1 < 4090) {
                b[n] = '/';
                memcpy(b + n + 1, b, n);
                b[2 * n + 1] = 0;
            }
            break;
        default: /* random digits */
            if (n < 4080)
                snprintf(b + n, 12, "%lu", (unsigned long)below(100000));
            break;
        }
    }
    return b;
}

static long pick_path(void)
{
    int r = (int)below(100);
    if (r < 62)
        return (long)PICK(PATHS);
    if (r < 84)
        return (long)mutate(PICK(PATHS));
    if (r < 89)
        return (long)longpath[below(3)];
    if (r < 92)
        return (long)(edge_page + 4096 - 1 - below(8)); /* no NUL before the unmapped page */
    if (r < 94)
        return (long)randpage;
    if (r < 96)
        return (long)hole;
    if (r < 98)
        return (long)PICK(KERNEL_PTRS);
    return (long)below(2); /* NULL or 1 */
}

static long pick_buf(void)
{
    int r = (int)below(100);
    if (r < 50)
        return (long)(bufs[below(4)] + (chance(70) ? 0 : below(65536 - 512)));
    if (r < 62)
        return (long)randpage;
    if (r < 68)
        return (long)ro_page;
    if (r < 72)
        return (long)none_page;
    if (r < 77)
        return (long)(arena + below(ARENA_SIZE));
    if (r < 81)
        return (long)hole;
    if (r < 85)
        return (long)(edge_page + 4096 - 1 - below(16));
    if (r < 92)
        return (long)PICK(KERNEL_PTRS);
    return (long)below(2);
}

static long pick_len(void)
{
    static const long odd[] = {0, 1, 2, 3, 4, 7, 8, 16, 23, 24, 64, 108, 110, 128, 144, 256, 4095, 4096, 4097,
                               65536, 0x7fffffff, 0x80000000L, -1, 1L << 40, 1L << 62, -4096};
    if (chance(60))
        return (long)below(chance(50) ? 300 : 70000);
    return PICK(odd);
}

static long pick_flags(void)
{
    int r = (int)below(100);
    if (r < 25)
        return 0;
    if (r < 50)
        return 1L << below(32);
    if (r < 75)
        return (long)(rnd() & rnd() & 0xffffffffUL);
    if (r < 85)
        return (long)(rnd() & 0xffffffffUL);
    if (r < 92)
        return -1;
    return (long)rnd();
}

static long pick_oflags(void)
{
    static const long common[] = {O_RDONLY, O_WRONLY, O_RDWR, O_PATH, O_DIRECTORY, O_CREAT | O_WRONLY,
                                  O_CREAT | O_EXCL | O_RDWR, O_TRUNC | O_WRONLY, O_NOFOLLOW, O_NONBLOCK,
                                  O_APPEND | O_WRONLY, O_TMPFILE | O_RDWR, O_PATH | O_NOFOLLOW, O_CLOEXEC,
                                  O_RDONLY | O_NONBLOCK | O_DIRECTORY, O_NOCTTY | O_RDWR, O_ASYNC, O_DIRECT,
                                  O_NOATIME, O_SYNC | O_WRONLY, 3};
    long f = PICK(common);
    if (chance(40))
        f |= PICK(common);
    if (chance(10))
        f |= 1L << below(32);
    if (chance(3))
        f = (long)rnd();
    return f;
}

static long pick_atflags(void)
{
    static const long fl[] = {0, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_SYMLINK_FOLLOW, AT_REMOVEDIR,
                              AT_EACCESS, AT_NO_AUTOMOUNT, 0x6000, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW};
    long f = PICK(fl);
    if (chance(15))
        f |= 1L << below(32);
    if (chance(3))
        f = -1;
    return f;
}

static long pick_mode(void)
{
    static const long m[] = {0, 0644, 0755, 0777, 07777, 0600, 0000, S_IFIFO | 0666, S_IFSOCK | 0644,
                             S_IFREG | 0600, S_IFCHR | 0666, S_IFBLK | 0600, S_IFDIR | 0755, 04755, 02755};
    if (chance(80))
        return PICK(m);
    return (long)rnd();
}

static long pick_int(void)
{
    static const long v[] = {0, 1, 2, 3, -1, -2, 4, 5, 8, 9, 10, 15, 16, 17, 22, 31, 32, 64, 100, 255, 256,
                             1000, 4096, 0x7fffffff, (long)(int)0x80000000, 0xffffffffL, 1L << 32, -100};
    if (chance(60))
        return PICK(v);
    if (chance(70))
        return (long)below(64);
    return (long)rnd();
}

static long pick_uid(void)
{
    static const long v[] = {0, 1000, -1, 65534, 1, 0xfffffffeL, -2, 0x7fffffff, 1L << 32, 100000};
    return chance(90) ? PICK(v) : (long)rnd();
}

static long pick_off(void)
{
    static const long v[] = {0, 1, 4096, -1, -4096, 1L << 40, 0x7fffffffffffffffL, 512, 100};
    return chance(70) ? PICK(v) : (long)rnd();
}

static long pick_name(void)
{
    if (chance(85))
        return (long)PICK(NAMES);
    return pick_path();
}

/* A harmless signal: ignored or caught by every process of the fuzzer. */
static long harmless_sig(void)
{
    static const long s[] = {0, SIGURG, SIGWINCH, SIGCHLD, SIGUSR1, SIGUSR2, SIGCONT, SIGPIPE, 40, 64};
    return PICK(s);
}

static long pick_sig(void)
{
    if (chance(70))
        return (long)below(66);
    return pick_int();
}

/* A pid: the worker, its victim, pid 1, nonexistent ones, or odd values.
 * The signal-sending calls are sanitised further in `sanitise`. */
static long pick_pid(void)
{
    static const long odd[] = {0, -1, 99999, -99999, 4194305, (long)(int)0x80000000, 0x7fffffff};
    int r = (int)below(100);
    if (r < 30)
        return my_pid;
    if (r < 60)
        return victim;
    if (r < 65)
        return -victim;
    if (r < 72)
        return 1;
    return PICK(odd);
}

static long pick_addr(void)
{
    int r = (int)below(100);
    if (r < 75)
        return (long)(arena + (below(ARENA_SIZE) & (chance(80) ? ~4095UL : ~0UL)));
    if (r < 82)
        return 0;
    if (r < 88)
        return (long)hole;
    return (long)PICK(KERNEL_PTRS);
}

static long pick_timespec(void)
{
    static const struct timespec v[] = {{0, 0}, {0, 1000}, {0, 999999999}, {-1, 0}, {0, 1000000000},
                                        {1L << 40, 0}, {0, (1 << 30) - 1}, {0, (1 << 30) - 2}, {1, 0},
                                        {0, -1}};
    if (chance(15))
        return chance(50) ? 0 : pick_buf();
    for (int i = 0; i < 4; i++)
        tsbuf[i] = PICK(v);
    return (long)tsbuf;
}

static long pick_iov(void)
{
    if (chance(15))
        return pick_buf();
    for (int i = 0; i < 8; i++) {
        iov[i].iov_base = (void *)(chance(85) ? (long)(bufs[below(4)] + below(60000)) : pick_buf());
        iov[i].iov_len = chance(90) ? below(4096) : (size_t)pick_len();
    }
    return (long)iov;
}

static long pick_sockaddr(void)
{
    if (chance(10))
        return pick_buf();
    memset(sabuf, 0, 256);
    int r = (int)below(100);
    if (r < 45) {
        struct sockaddr_un *u = (void *)sabuf;
        u->sun_family = AF_UNIX;
        static const char *un[] = {"/tmp/sock", "sock", "/scratch/sock", "/proc/self/sock", "/etc/passwd",
                                   "/tmp/d1/s", "/root/s", "\0abstract", "/tmp/fifo"};
        const char *p = PICK(un);
        if (p[0] == 0)
            memcpy(u->sun_path, "\0fuzz-abstract", 14);
        else
            strncpy(u->sun_path, p, sizeof u->sun_path - 1);
        if (chance(10))
            memset(u->sun_path, 'z', sizeof u->sun_path); /* unterminated */
    } else if (r < 70) {
        struct sockaddr_in *in = (void *)sabuf;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)(chance(80) ? 40000 + below(4) : below(65536)));
        in->sin_addr.s_addr = htonl(chance(70) ? 0x7f000001 : chance(50) ? 0 : (uint32_t)rnd());
    } else if (r < 85) {
        struct sockaddr_in6 *in6 = (void *)sabuf;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)(40000 + below(4)));
        in6->sin6_addr.s6_addr[15] = 1;
    } else {
        for (size_t i = 0; i < 256; i++)
            sabuf[i] = (char)rnd();
        if (chance(50))
            *(unsigned short *)sabuf = (unsigned short)below(46);
    }
    return (long)sabuf;
}

static long pick_argv(void)
{
    int r = (int)below(100);
    if (r < 40)
        return 0;
    if (r < 80)
        return (long)safe_argv;
    if (r < 90)
        return (long)safe_envp;
    return (long)(chance(50) ? 1 : PICK(KERNEL_PTRS));
}

static long pick_any(void)
{
    switch (below(12)) {
    case 0: return pick_fd();
    case 1: return pick_path();
    case 2: return pick_buf();
    case 3: return pick_len();
    case 4: return pick_flags();
    case 5: return pick_int();
    case 6: return pick_mode();
    case 7: return pick_uid();
    case 8: return (long)PICK(KERNEL_PTRS);
    case 9: return (long)rnd();
    case 10: return pick_iov();
    default: return (long)below(3);
    }
}

static long gen(char t)
{
    if (t != 'a' && t != 'P' && t != 'e' && chance(8))
        return pick_any();
    switch (t) {
    case 'f': return pick_fd();
    case 'd': return pick_dirfd();
    case 'p': return pick_path();
    case 'b': return pick_buf();
    case 'n': return pick_len();
    case 'x': return pick_flags();
    case 'O': return pick_oflags();
    case 'A': return pick_atflags();
    case 'm': return pick_mode();
    case 'i': return pick_int();
    case 'P': return pick_pid();
    case 's': return pick_sig();
    case 'u': return pick_uid();
    case 'a': return pick_addr();
    case 'o': return pick_off();
    case 'S': return pick_name();
    case 'v': return pick_iov();
    case 'k': return pick_sockaddr();
    case 't': return pick_timespec();
    case 'e': return pick_argv();
    default: return pick_any();
    }
}

/* ------------------------------------------------------ the signature table
 * One string per number: a letter per argument (see `gen`): f fd, d dirfd,
 * p path, b buffer, n length, x flags, O open flags, A at-flags, m mode,
 * i int, P pid, s signal, u uid, a address in the arena, o offset, S name,
 * v iovec, k sockaddr, t timespec, e argv/envp, w anything. */

static const char *SIGS[470] = {
    [0] = "fbn", [1] = "fbn", [2] = "pOm", [3] = "f", [4] = "pb", [5] = "fb", [6] = "pb", [7] = "bni",
    [8] = "foi", [9] = "anxxfo", [10] = "anx", [11] = "an", [12] = "w", [13] = "sbbn", [14] = "ibbn",
    [16] = "fxb", [17] = "fbno", [18] = "fbno", [19] = "fvi", [20] = "fvi", [21] = "pi", [22] = "b",
    [23] = "ibbbt", [24] = "", [25] = "annxa", [26] = "anx", [27] = "anb", [28] = "ani", [29] = "inx",
    [30] = "iax", [31] = "iib", [32] = "f", [33] = "ff", [34] = "", [35] = "tb", [36] = "ib", [37] = "i",
    [38] = "ibb", [39] = "", [40] = "ffbn", [41] = "iii", [42] = "fkn", [43] = "fbb", [44] = "fbnxkn",
    [45] = "fbnxbb", [46] = "fbx", [47] = "fbx", [48] = "fi", [49] = "fkn", [50] = "fi", [51] = "fbb",
    [52] = "fbb", [53] = "iiib", [54] = "fiibn", [55] = "fiibb", [56] = "xbbbb", [57] = "", [58] = "",
    [59] = "pee", [61] = "Pbxb", [62] = "Ps", [63] = "b", [64] = "iix", [65] = "ibn", [66] = "iiib",
    [67] = "a", [68] = "ix", [69] = "ibnx", [70] = "ibnix", [71] = "iib", [72] = "fiw", [73] = "fi",
    [74] = "f", [75] = "f", [76] = "po", [77] = "fo", [78] = "fbn", [79] = "bn", [80] = "p", [81] = "f",
    [82] = "pp", [83] = "pm", [84] = "p", [85] = "pm", [86] = "pp", [87] = "p", [88] = "pp", [89] = "pbn",
    [90] = "pm", [91] = "fm", [92] = "puu", [93] = "fuu", [94] = "puu", [95] = "m", [96] = "bb",
    [97] = "ib", [98] = "ib", [99] = "b", [100] = "b", [101] = "iPbb", [102] = "", [103] = "ibn",
    [104] = "", [105] = "u", [106] = "u", [107] = "", [108] = "", [109] = "PP", [110] = "", [111] = "",
    [112] = "", [113] = "uu", [114] = "uu", [115] = "nb", [116] = "nb", [117] = "uuu", [118] = "bbb",
    [119] = "uuu", [120] = "bbb", [121] = "P", [122] = "u", [123] = "u", [124] = "P", [125] = "bb",
    [126] = "bb", [127] = "bn", [128] = "bbtn", [129] = "Psb", [130] = "bn", [131] = "bb", [132] = "pb",
    [133] = "pmw", [134] = "p", [135] = "x", [136] = "ib", [137] = "pb", [138] = "fb", [139] = "iib",
    [140] = "iP", [141] = "iPi", [142] = "Pb", [143] = "Pb", [144] = "Pib", [145] = "P", [146] = "i",
    [147] = "i", [148] = "Pb", [149] = "an", [150] = "an", [151] = "x", [152] = "", [153] = "",
    [154] = "ibn", [155] = "pp", [156] = "b", [157] = "iwwww", [158] = "ib", [159] = "b", [160] = "ib",
    [161] = "p", [162] = "", [163] = "p", [164] = "bb", [165] = "ppSxb", [166] = "px", [167] = "px",
    [168] = "p", [169] = "wwwb", [170] = "bn", [171] = "bn", [172] = "i", [173] = "wwi", [175] = "bnS",
    [176] = "Sx", [186] = "", [187] = "fon", [188] = "pSbnx", [189] = "pSbnx", [190] = "fSbnx",
    [191] = "pSbn", [192] = "pSbn", [193] = "fSbn", [194] = "pbn", [195] = "pbn", [196] = "fbn",
    [197] = "pS", [198] = "pS", [199] = "fS", [200] = "Ps", [201] = "b", [202] = "bibbbi", [203] = "Pnb",
    [204] = "Pnb", [205] = "b", [206] = "ib", [207] = "w", [208] = "wiibt", [209] = "wib", [210] = "wbb",
    [211] = "b", [212] = "wbn", [213] = "i", [216] = "anixx", [217] = "fbn", [218] = "b", [219] = "",
    [220] = "ibnt", [221] = "foni", [222] = "ibb", [223] = "ixbb", [224] = "ib", [225] = "i", [226] = "i",
    [227] = "ib", [228] = "ib", [229] = "ib", [230] = "ixtb", [232] = "fbni", [233] = "fifb",
    [234] = "PPs", [235] = "pt", [237] = "anibnx", [238] = "ibn", [239] = "bbnax", [240] = "Sxmb",
    [241] = "S", [242] = "fbnit", [243] = "fbnbt", [244] = "fb", [245] = "fbb", [246] = "wnbx",
    [247] = "iPbxb", [248] = "SSbni", [249] = "SSSi", [250] = "iwwww", [251] = "iP", [252] = "iPi",
    [253] = "", [254] = "fpx", [255] = "fi", [256] = "Pnbb", [257] = "dpOm", [258] = "dpm",
    [259] = "dpmw", [260] = "dpuuA", [261] = "dpt", [262] = "dpbA", [263] = "dpA", [264] = "dpdp",
    [265] = "dpdpA", [266] = "pdp", [267] = "dpbn", [268] = "dpm", [269] = "dpi", [270] = "ibbbtb",
    [271] = "bntbn", [272] = "x", [273] = "bn", [274] = "Pbb", [275] = "fbfbnx", [276] = "ffnx",
    [277] = "foox", [278] = "fvix", [279] = "Pnbbbx", [280] = "dptA", [281] = "fbnibn", [282] = "fbn",
    [283] = "ix", [284] = "i", [285] = "fioo", [286] = "fxbb", [287] = "fb", [288] = "fbbx",
    [289] = "fbnx", [290] = "ix", [291] = "x", [292] = "ffx", [293] = "bx", [294] = "x", [295] = "fvio",
    [296] = "fvio", [297] = "PPsb", [298] = "bPiix", [299] = "fbnxt", [300] = "xx", [301] = "fxwdp",
    [302] = "Pibb", [303] = "dpbbA", [304] = "fbx", [305] = "ib", [306] = "f", [307] = "fbnx",
    [308] = "fx", [309] = "bbb", [310] = "Pvivix", [311] = "Pvivix", [312] = "PPiww", [313] = "fSx",
    [314] = "Pbx", [315] = "Pbnx", [316] = "dpdpx", [317] = "ixb", [318] = "bnx", [319] = "Sx",
    [320] = "ffnbx", [321] = "ibn", [322] = "dpeeA", [323] = "x", [324] = "xxi", [325] = "anx",
    [326] = "fbfbnx", [327] = "fviox", [328] = "fviox", [329] = "anxi", [330] = "xx", [331] = "i",
    [332] = "dpAxb", [333] = "wiibtb", [334] = "bnxi",
    [424] = "fsbx", [425] = "ib", [426] = "fiixbn", [427] = "fibi", [428] = "dpx", [429] = "dpdpx",
    [430] = "Sx", [431] = "fiSbi", [432] = "fxx", [433] = "dpx", [434] = "Px", [435] = "bn",
    [436] = "iix", [437] = "dpbn", [438] = "fix", [439] = "dpiA", [440] = "fvixx", [441] = "fbnbbn",
    [442] = "dpxbn", [443] = "fibb", [444] = "bnx", [445] = "fibx", [446] = "fx", [447] = "x",
    [448] = "fx", [449] = "bnxtx", [450] = "anix", [451] = "fbbx", [452] = "dpmA", [453] = "anx",
    [454] = "bwix", [455] = "bwwxtx", [456] = "bxii", [457] = "bbnx", [458] = "bbnx", [459] = "ibbx",
    [460] = "ibnx", [461] = "bbx", [462] = "anx", [463] = "dpAbSb", [464] = "dpAbSb", [465] = "dpAbn",
    [466] = "dpAS", [467] = "dpxbn", [468] = "dpbnA", [469] = "dpbnA",
};

/* Never issued (see the header). */
static int denied(long nr) { return nr == 15 || nr == 60 || nr == 231 || nr == 335 || nr == 336; }

/* The calls the library OS serves (trapped): drawn most often. */
static const short TRAPPED[] = {
    2, 4, 5, 6, 21, 22, 23, 29, 30, 31, 33 /* dup2 is ABI but cheap */, 34, 36, 37, 38, 40, 41, 42, 43,
    49, 50, 51, 52, 53, 56, 57, 58, 59, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 76, 79, 80, 81, 82,
    83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 97, 98, 99, 100, 101, 102, 104, 105, 106, 107,
    108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
    129, 133, 135, 137, 138, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 155,
    157, 158, 160, 161, 162, 163, 165, 166, 169, 170, 187, 188, 189, 190, 191, 192, 193, 194, 195, 196,
    197, 198, 199, 200, 201, 203, 206, 207, 208, 209, 210, 213, 220, 221, 222, 223, 224, 225, 226, 229,
    234, 237, 238, 239, 240, 241, 242, 243, 244, 245, 247, 250, 251, 252, 253, 254, 255, 257, 258, 259,
    260, 262, 263, 264, 265, 266, 267, 268, 269, 272, 274, 275, 276, 280, 282, 283, 284, 285, 286, 287,
    289, 290, 292, 294, 295, 296, 297, 299, 302, 303, 304, 306, 307, 308, 309, 310, 312, 314, 315, 316,
    317, 319, 322, 324, 325, 326, 327, 328, 329, 330, 331, 332, 424, 428, 434, 435, 436, 437, 438, 439,
    441, 444, 445, 446, 447, 451, 452, 453,
    /* the most used file calls once more: the library OS's own code */
    2, 4, 6, 21, 76, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 92, 94, 133, 188, 191, 194, 257,
    257, 258, 259, 260, 262, 262, 263, 264, 265, 266, 267, 268, 269, 280, 316, 322, 332, 332, 437, 437,
    439, 452, 59, 62, 117, 119, 122, 123, 126, 116,
};

static long pick_nr(void)
{
    int r = (int)below(100);
    long nr;
    if (r < 80)
        nr = PICK(TRAPPED);
    else if (r < 95)
        nr = (long)below(470);
    else {
        static const long odd[] = {470, 471, 500, 511, 512, 547, 1000, 1023, 1024, 4096, 0x3fffffff,
                                   0x40000000 | 2, 0x40000000 | 257, 0x40000000 | 512, 0x7fffffff, -1, -2,
                                   (long)(int)0x80000000, 1L << 32, (1L << 32) | 39};
        nr = chance(50) ? 470 + (long)below(554) : PICK(odd);
    }
    return denied(nr) ? 39 /* getpid */ : nr;
}

/* ------------------------------------------------------------- sanitising */

static void clamp_range(long *addr, long *len)
{
    unsigned long a = (unsigned long)*addr, lo = (unsigned long)arena, hi = lo + ARENA_SIZE;
    if (a >= lo && a < hi) {
        if ((unsigned long)*len > hi - a)
            *len = (long)(hi - a);
    } else if (a < 65536) {
        if ((unsigned long)*len > 65536 - a)
            *len = (long)(65536 - a); /* below mmap_min_addr: nothing of ours */
    } else if (a == (unsigned long)hole) {
        if ((unsigned long)*len > 4096)
            *len = 4096;
    } else if (a < 0x800000000000UL) {
        *addr = (long)arena; /* an address we did not choose: into the arena */
        if ((unsigned long)*len > ARENA_SIZE)
            *len = ARENA_SIZE;
    }
}

static int is_self_like(long pid) { return pid == 0 || pid == my_pid || pid == -my_pid; }

static void sanitise(long nr, long *a)
{
    switch (nr) {
    case 9: /* mmap */
        if (a[3] & (MAP_FIXED | MAP_FIXED_NOREPLACE))
            a[0] = (long)(arena + (below(ARENA_SIZE) & ~4095UL));
        clamp_range(&a[0], &a[1]);
        if ((unsigned long)a[1] > (64UL << 20))
            a[1] = (long)below(64UL << 20);
        break;
    case 10: case 11: case 26: case 27: case 28: case 149: case 150: case 216: case 237: case 325:
    case 329: case 450: case 453: case 462: /* mprotect munmap msync mincore madvise mlock ... */
        clamp_range(&a[0], &a[1]);
        break;
    case 25: /* mremap */
        clamp_range(&a[0], &a[1]);
        if ((unsigned long)a[2] > ARENA_SIZE)
            a[2] = (long)below(ARENA_SIZE);
        a[4] = (long)(arena + (below(ARENA_SIZE) & ~4095UL));
        {
            long n = a[2];
            clamp_range(&a[4], &n);
            if (a[3] & 3)
                a[2] = n;
        }
        break;
    case 30: /* shmat */
        a[1] = chance(50) ? 0 : (long)(arena + (below(ARENA_SIZE / 2) & ~4095UL));
        break;
    case 67: /* shmdt */
        a[0] = (long)(arena + (below(ARENA_SIZE) & ~4095UL));
        break;
    case 12: /* brk: never below our own heap start (we use no heap) */
        break;
    case 13: /* rt_sigaction: keep SIGALRM, our watchdog tick */
        if ((a[0] & 0xffffffff) == SIGALRM)
            a[0] = SIGUSR1;
        break;
    case 130: /* rt_sigsuspend: nothing blocked, the tick comes */
        a[0] = (long)zero_sigset;
        a[1] = 8;
        break;
    case 14: /* rt_sigprocmask: never block the tick */
        if (a[1] >= (long)zone && a[1] < (long)(zone + zone_size) - 8 && !(a[1] & 7))
            *(uint64_t *)a[1] &= ~(1ULL << (SIGALRM - 1));
        break;
    case 271: /* ppoll */
        a[3] = chance(50) ? 0 : (long)zero_sigset;
        break;
    case 281: case 441: /* epoll_pwait, epoll_pwait2 */
        a[4] = chance(50) ? 0 : (long)zero_sigset;
        break;
    case 270: case 333: /* pselect6, io_pgetevents: a {sigset *, size} */
        a[5] = 0;
        break;
    case 223: case 226: /* timer_settime, timer_delete: not the tick's timer */
        if ((a[0] & 0xffffffff) == tick_timer)
            a[0] = tick_timer + 1 + (long)below(4);
        break;

    case 158: /* arch_prctl: ARCH_SET_FS would break our TLS */
        if ((a[0] & 0xffffffff) == 0x1002)
            a[0] = 0x1003;
        break;
    case 157: /* prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT): a trivial suicide */
        if ((a[0] & 0xffffffff) == 22 && (a[1] & 0xffffffff) == 1)
            a[1] = 2;
        break;
    case 317: /* seccomp(SECCOMP_SET_MODE_STRICT) */
        if ((a[0] & 0xffffffff) == 0)
            a[0] = 1;
        break;
    case 56: { /* clone */
        long f = a[0] & ~0xffL;
        if ((f & CLONE_VM) && !(f & CLONE_VFORK)) {
            if (chance(50))
                f |= CLONE_VFORK;
            else
                f &= ~(CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
        }
        f |= chance(80) ? SIGCHLD : 0;
        a[0] = f;
        a[1] = chance(70) ? 0 : (long)(bufs[below(4)] + 65536 - 64);
        for (int i = 2; i < 5; i++)
            a[i] = chance(50) ? 0 : (long)(bufs[below(4)] + below(1000) * 8);
        break;
    }
    case 59: /* execve */
        a[1] = pick_argv();
        a[2] = pick_argv();
        break;
    case 322: /* execveat */
        a[2] = pick_argv();
        a[3] = pick_argv();
        break;
    case 62: /* kill */
    case 129: /* rt_sigqueueinfo */
        if (a[0] == victim || a[0] == -victim || a[0] == 99999 || a[0] == -99999 || a[0] == 4194305 ||
            a[0] == (long)(int)0x80000000)
            break;
        if (a[0] == -1)
            a[1] = 0;
        else if (a[0] == 1 || is_self_like(a[0]))
            a[1] = harmless_sig();
        else
            a[0] = victim;
        break;
    case 200: /* tkill */
        if (a[0] == victim || a[0] == 99999)
            break;
        if (a[0] == 1 || a[0] == my_pid)
            a[1] = harmless_sig();
        else
            a[0] = victim;
        break;
    case 234: /* tgkill */
    case 297: /* rt_tgsigqueueinfo */
        if (a[0] == victim || a[0] == 99999) {
            if (chance(80))
                a[1] = a[0];
            break;
        }
        if (a[0] == 1 || a[0] == my_pid) {
            a[1] = chance(80) ? a[0] : a[1];
            a[2] = harmless_sig();
        } else {
            a[0] = a[1] = victim;
        }
        break;
    case 424: /* pidfd_send_signal: the pidfd may be ours */
        a[1] = harmless_sig();
        break;
    case 434: /* pidfd_open */
    case 302: /* prlimit64 */
    case 142: case 144: case 203: case 314: /* sched_setparam, setscheduler, setaffinity, setattr */
        if (a[0] != victim && a[0] != 99999 && a[0] != 0 && a[0] != -1 && !(nr == 434 && a[0] == 1))
            a[0] = chance(50) ? my_pid : victim;
        break;
    case 141: /* setpriority(which, who, prio) */
    case 252: /* ioprio_set(which, who, ioprio) */
        if ((nr == 141 && (a[0] & 0xffffffff) == 2) || (nr == 252 && (a[0] & 0xffffffff) == 3))
            a[1] = 4242; /* a user with no process: not the prober's */
        else if (a[1] != victim && a[1] != -victim && a[1] != 99999)
            a[1] = chance(50) ? 0 : victim;
        break;
    case 72: /* fcntl(F_SETOWN / F_SETOWN_EX) */
        if ((a[1] & 0xffffffff) == F_SETOWN)
            a[2] = chance(50) ? victim : chance(50) ? -victim : my_pid;
        if ((a[1] & 0xffffffff) == F_SETOWN_EX) {
            struct f_owner_ex *o = (void *)bufs[3];
            o->type = (int)below(4);
            o->pid = (int)(chance(50) ? victim : my_pid);
            a[2] = (long)o;
        }
        break;
    }
}

/* ------------------------------------------------------------ issuing calls */

static int is_fork_like(long nr) { return nr == 56 || nr == 57 || nr == 58 || nr == 435; }

static int returns_fd(long nr)
{
    switch (nr) {
    case 2: case 32: case 33: case 41: case 43: case 85: case 213: case 240: case 253: case 257: case 282:
    case 283: case 284: case 288: case 289: case 290: case 291: case 292: case 294: case 319: case 428:
    case 430: case 432: case 433: case 434: case 437: case 444:
        return 1;
    }
    return 0;
}

static long call(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    if (no_fifos && (nr == SYS_mknod || nr == SYS_mknodat)) { /* a FIFO becomes a regular file */
        long *m = nr == SYS_mknod ? &a1 : &a2;
        if ((*m & S_IFMT) == S_IFIFO)
            *m ^= S_IFIFO | S_IFREG;
    }
    long a[6] = {a0, a1, a2, a3, a4, a5};
    uint64_t pos = me->ring_pos++ % RING;
    struct ring_entry *e = &me->ring[pos];
    e->nr = nr;
    memcpy(e->a, a, sizeof a);
    e->ret = -4096;
    long ret = is_fork_like(nr) ? sys6_fork(nr, a0, a1, a2, a3, a4, a5) : sys6(nr, a0, a1, a2, a3, a4, a5);
    e->ret = ret;
    me->progress++;
    if (nr >= 0 && nr < NREACH)
        me->reached[nr] = 1;
    else
        me->out_of_range++;
    if (verbose) {
        char line[400];
        snprintf(line, sizeof line, "CALL\t%lu\t%ld\t%#lx\t%#lx\t%#lx\t%#lx\t%#lx\t%#lx\t=\t%ld%s\n",
                 (unsigned long)me->step, nr, a0, a1, a2, a3, a4, a5, ret,
                 me->canary == CANARY && me->canary2 == CANARY ? "" : "\tSPOILT-HERE");
        S3(SYS_write, 1000, line, strlen(line));
    }
    if (ret >= 0 && returns_fd(nr))
        pool_add(ret);
    if (ret == 0 && (nr == 22 || nr == 293 || nr == 53)) {
        long p = nr == 53 ? a3 : a0;
        if (p >= (long)bufs && p < (long)bufs + (long)(4 * sizeof(bufs_t)) - 8) {
            pool_add(((int *)p)[0]);
            pool_add(((int *)p)[1]);
        }
    }
    return ret;
}

#define C0(n) call((n), 0, 0, 0, 0, 0, 0)
#define C1(n, a) call((n), (long)(a), 0, 0, 0, 0, 0)
#define C2(n, a, b) call((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define C3(n, a, b, c) call((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define C4(n, a, b, c, d) call((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define C5(n, a, b, c, d, e) call((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static void random_call(void)
{
    long nr = pick_nr();
    long a[6];
    const char *sig = (nr >= 0 && nr < 470) ? SIGS[nr] : NULL;
    if (sig && chance(92)) {
        size_t n = strlen(sig);
        for (int i = 0; i < 6; i++)
            a[i] = (size_t)i < n ? gen(sig[i]) : (chance(80) ? 0 : pick_any());
    } else {
        for (int i = 0; i < 6; i++)
            a[i] = pick_any();
        if (sig) {
            size_t n = strlen(sig);
            for (size_t i = 0; i < n && i < 6; i++)
                if (sig[i] == 'a' || sig[i] == 'P' || sig[i] == 'e')
                    a[i] = gen(sig[i]);
        }
    }
    sanitise(nr, a);
    call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ------------------------------------------------------------------ recipes
 * Each creates objects and uses them in the calls after. */

static const char *local_name(void)
{
    static const char *n[] = {"f1", "f2", "d1", "fifo", "sock", "link", "loop1", "loop2", "proclink",
                              "hard", "d1/f", "d1/d2", "/tmp/f1", "/tmp/fifo", "/scratch/f1",
                              "/scratch/fifo", "/tmp/d1", "/scratch/d1", "/tmp/link", "/scratch/link"};
    return PICK(n);
}

static const char *fd_path(long fd)
{
    char *b = procfd[below(MUTS)];
    static const char *fmt[] = {"/proc/self/fd/%ld", "/proc/self/fdinfo/%ld", "/proc/thread-self/fd/%ld",
                                "/dev/fd/%ld", "/proc/self/fd/%ld/", "/proc/self/fd/%ld/..",
                                "/proc/%d/fd/%ld"};
    int k = (int)below(sizeof fmt / sizeof fmt[0]);
    if (k == 6)
        snprintf(b, 64, fmt[k], chance(50) ? 1 : (int)my_pid, fd);
    else
        snprintf(b, 64, fmt[k], fd);
    return b;
}

/* Use a fd: the calls a program makes on what it opened. */
static void use_fd(long fd, int n)
{
    for (int i = 0; i < n; i++) {
        char *b = bufs[below(4)];
        switch (below(26)) {
        case 0: C3(SYS_read, fd, b, below(4096)); break;
        case 1: C3(SYS_write, fd, randpage, below(4096)); break;
        case 2: C2(SYS_fstat, fd, b); break;
        case 3: C3(SYS_getdents64, fd, b, 4096 + below(60000)); break;
        case 4: C4(SYS_newfstatat, fd, "", b, AT_EMPTY_PATH | (chance(30) ? AT_SYMLINK_NOFOLLOW : 0)); break;
        case 5: C5(SYS_statx, fd, "", AT_EMPTY_PATH, 0xfff, b); break;
        case 6: C4(SYS_openat, fd, PICK(PATHS), pick_oflags(), pick_mode()); break;
        case 7: C4(SYS_openat, AT_FDCWD, fd_path(fd), pick_oflags(), pick_mode()); break;
        case 8: C4(SYS_newfstatat, AT_FDCWD, fd_path(fd), b, chance(50) ? AT_SYMLINK_NOFOLLOW : 0); break;
        case 9: C4(SYS_readlinkat, AT_FDCWD, fd_path(fd), b, pick_len()); break;
        case 10: C4(SYS_readlinkat, fd, "", b, 4096); break;
        case 11: C1(SYS_fchdir, fd); C1(SYS_chdir, chance(50) ? "/tmp" : "/scratch"); break;
        case 12: C2(SYS_fchmod, fd, pick_mode()); break;
        case 13: C3(SYS_fchown, fd, pick_uid(), pick_uid()); break;
        case 14: C5(SYS_fchownat, fd, "", pick_uid(), pick_uid(), AT_EMPTY_PATH); break;
        case 15: C4(SYS_utimensat, fd, chance(50) ? 0 : (long)"", pick_timespec(), pick_atflags()); break;
        case 16: C2(SYS_ftruncate, fd, pick_off()); break;
        case 17: C3(SYS_ioctl, fd, PICK(((const long[]){0x5401, 0x5412, 0x541D, 0x5413, 0x541B, 0x80045430,
                                                       0x5441, 0x40049409, 0x8912, 0x80086601, 0x5460,
                                                       0x8901, 0x540E, 0x5422, 0xc0185879})),
                     b); break;
        case 18: C3(SYS_fcntl, fd, PICK(((const long[]){F_GETFL, F_SETFL, F_GETFD, F_SETOWN, F_GETOWN,
                                                       F_SETSIG, F_GETSIG, F_SETLEASE, F_GETLEASE, F_NOTIFY,
                                                       F_SETPIPE_SZ, F_GETPIPE_SZ, F_ADD_SEALS, F_DUPFD,
                                                       1035, 1036})),
                     chance(50) ? (long)below(16) : my_pid); break;
        case 19: {
            long m = call(SYS_mmap, (long)arena + (long)(below(1024) * 4096), 4096 * (1 + below(4)),
                          PROT_READ | (chance(30) ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, fd, 0);
            (void)m;
            break;
        }
        case 20: C4(SYS_execveat, fd, "", (long)safe_argv, AT_EMPTY_PATH); break;
        case 21: C5(SYS_fgetxattr, fd, PICK(NAMES), b, 256, 0); call(SYS_fsetxattr, fd, (long)PICK(NAMES), (long)randpage, (long)below(64), (long)below(3), 0); break;
        case 22: C3(SYS_flistxattr, fd, b, 4096); break;
        case 23: C2(SYS_fstatfs, fd, b); break;
        case 24: C4(SYS_faccessat2, fd, "", below(8), AT_EMPTY_PATH); break;
        default: C3(SYS_lseek, fd, pick_off(), below(5)); break;
        }
    }
}

static void recipe_open(void)
{
    long fd;
    if (chance(70))
        fd = C4(SYS_openat, pick_dirfd(), pick_path(), pick_oflags(), pick_mode());
    else {
        unsigned long how[4] = {(unsigned long)pick_oflags() & 0xffffffffUL, (unsigned long)pick_mode() & 07777,
                                below(0x40), 0};
        if (chance(10))
            how[below(4)] = rnd();
        memcpy(bufs[2], how, sizeof how);
        fd = C4(SYS_openat2, pick_dirfd(), pick_path(), bufs[2], chance(80) ? 24 : pick_len());
    }
    if (fd >= 0)
        use_fd(fd, 1 + (int)below(5));
}

/* FIFOs: made, opened without blocking, then reopened and truncated as a
 * program that does not know what it holds would. */
static void recipe_fifo(void)
{
    const char *name = chance(50) ? "fifo" : chance(50) ? "/tmp/fifo" : "/scratch/fifo";
    C4(SYS_mknodat, AT_FDCWD, name, S_IFIFO | 0666, 0);
    long fd = C4(SYS_openat, AT_FDCWD, name,
                 (chance(50) ? O_RDONLY : chance(50) ? O_RDWR : O_WRONLY) | O_NONBLOCK, 0);
    if (fd < 0 && chance(50))
        fd = C4(SYS_openat, AT_FDCWD, name, O_PATH, 0);
    if (fd >= 0) {
        int k = (int)below(6);
        if (k == 0)
            C4(SYS_openat, AT_FDCWD, fd_path(fd), pick_oflags(), 0);
        else if (k == 1)
            C2(SYS_truncate, name, below(100));
        else
            use_fd(fd, 1 + (int)below(3));
    }
}

static void recipe_pipe(void)
{
    int *p = (int *)bufs[1];
    long r = chance(50) ? C2(SYS_pipe2, p, chance(50) ? O_NONBLOCK : 0)
                        : C4(SYS_socketpair, AF_UNIX, chance(50) ? SOCK_STREAM : SOCK_DGRAM, 0, p);
    if (r < 0)
        return;
    long a = p[0], b = p[1];
    if (chance(50))
        C1(SYS_close, chance(50) ? a : b);
    use_fd(chance(50) ? a : b, 1 + (int)below(4));
    if (chance(30))
        C4(SYS_openat, AT_FDCWD, fd_path(chance(50) ? a : b), pick_oflags(), 0);
}

static void recipe_socket(void)
{
    static const long fam[] = {AF_UNIX, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, 40 /* vsock */,
                               AF_ALG, 12345};
    static const long typ[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, SOCK_STREAM | SOCK_NONBLOCK};
    long fd = C3(SYS_socket, PICK(fam), PICK(typ), chance(80) ? 0 : pick_int());
    if (fd < 0)
        return;
    long sa = pick_sockaddr();
    long len = chance(70) ? (long)sizeof(struct sockaddr_un) : pick_len();
    if (chance(60))
        C3(SYS_bind, fd, sa, len);
    if (chance(40))
        C2(SYS_listen, fd, below(8));
    if (chance(50)) {
        long c = C3(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c >= 0)
            C3(SYS_connect, c, sa, len);
    }
    if (chance(40))
        C4(SYS_accept4, fd, 0, 0, SOCK_NONBLOCK);
    if (chance(30)) {
        struct msghdr *m = (void *)bufs[3];
        memset(m, 0, sizeof *m);
        char *ctl = bufs[3] + 512;
        struct cmsghdr *cm = (void *)ctl;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        *(int *)CMSG_DATA(cm) = (int)any_pool_fd();
        m->msg_control = ctl;
        m->msg_controllen = CMSG_SPACE(sizeof(int));
        m->msg_iov = (void *)pick_iov();
        m->msg_iovlen = 1 + below(3);
        C3(SYS_sendmsg, fd, m, MSG_DONTWAIT);
    }
    use_fd(fd, (int)below(3));
}

static void recipe_tree(void)
{
    const char *a = local_name(), *b = local_name();
    switch (below(14)) {
    case 0: C2(SYS_mkdir, a, pick_mode()); C1(SYS_chdir, a); C4(SYS_openat, AT_FDCWD, "..", O_RDONLY, 0); C1(SYS_chdir, ".."); break;
    case 1: C2(SYS_symlink, PICK(LINK_TARGETS), a); C4(SYS_openat, AT_FDCWD, a, pick_oflags(), 0644); break;
    case 2: C2(SYS_symlink, PICK(LINK_TARGETS), a); C3(SYS_readlink, a, bufs[0], pick_len()); C2(SYS_stat, a, bufs[0]); break;
    case 3: C2(SYS_link, a, b); break;
    case 4: C5(SYS_linkat, AT_FDCWD, a, AT_FDCWD, b, chance(50) ? AT_SYMLINK_FOLLOW : pick_atflags()); break;
    case 5: C2(SYS_rename, a, b); break;
    case 6: C5(SYS_renameat2, pick_dirfd(), a, pick_dirfd(), b, below(8)); break;
    case 7: C1(SYS_unlink, a); break;
    case 8: C1(SYS_rmdir, a); break;
    case 9: C3(SYS_mknod, a, pick_mode(), chance(80) ? 0 : pick_int()); break;
    case 10: C2(SYS_creat, a, pick_mode()); C2(SYS_truncate, a, pick_off()); break;
    case 11: C2(SYS_chmod, a, pick_mode()); C3(SYS_lchown, a, pick_uid(), pick_uid()); break;
    case 12: C4(SYS_utimensat, AT_FDCWD, a, pick_timespec(), pick_atflags()); break;
    default: C2(SYS_access, a, below(8)); C4(SYS_faccessat2, AT_FDCWD, a, below(8), pick_atflags()); break;
    }
}

static void recipe_proc(void)
{
    static const char *dirs[] = {"/proc", "/proc/self", "/proc/self/fd", "/proc/self/fdinfo", "/proc/1",
                                 "/proc/self/task", "/proc/sys", "/proc/sys/kernel", "/proc/1/fd",
                                 "/proc/thread-self", "/proc/self/task/1", "/proc/self/net"};
    long d = C4(SYS_openat, AT_FDCWD, PICK(dirs), O_RDONLY | O_DIRECTORY, 0);
    if (d < 0)
        return;
    long n = C3(SYS_getdents64, d, bufs[0], 8192);
    for (long off = 0; n > 0 && off < n && off < 8192;) {
        struct {
            unsigned long long ino;
            long long off;
            unsigned short reclen;
            unsigned char type;
            char name[];
        } *de = (void *)(bufs[0] + off);
        if (de->reclen == 0)
            break;
        if (chance(35)) {
            switch (below(5)) {
            case 0: C4(SYS_newfstatat, d, de->name, bufs[1], chance(50) ? AT_SYMLINK_NOFOLLOW : 0); break;
            case 1: C4(SYS_readlinkat, d, de->name, bufs[1], 4096); break;
            case 2: {
                long f = C4(SYS_openat, d, de->name, O_RDONLY | (chance(30) ? O_NONBLOCK : 0), 0);
                if (f >= 0) {
                    C3(SYS_read, f, bufs[1], 65536);
                    C1(SYS_close, f);
                }
                break;
            }
            case 3: C3(SYS_faccessat, d, de->name, below(8)); break;
            default: C5(SYS_statx, d, de->name, pick_atflags(), 0xfff, bufs[1]); break;
            }
        }
        off += de->reclen;
    }
    if (chance(30))
        C1(SYS_fchdir, d);
    C1(SYS_close, d);
}

static void recipe_identity(void)
{
    switch (below(9)) {
    case 0: C3(SYS_setresuid, pick_uid(), pick_uid(), pick_uid()); break;
    case 1: C3(SYS_setresgid, pick_uid(), pick_uid(), pick_uid()); break;
    case 2: C1(SYS_setfsuid, pick_uid()); break;
    case 3: C1(SYS_setfsgid, pick_uid()); break;
    case 4: {
        unsigned int *g = (unsigned int *)bufs[2];
        long n = (long)below(8);
        for (long i = 0; i < n; i++)
            g[i] = (unsigned int)pick_uid();
        C2(SYS_setgroups, chance(90) ? n : pick_len(), g);
        break;
    }
    case 5: {
        unsigned int *h = (unsigned int *)bufs[2];
        static const unsigned int ver[] = {0x19980330, 0x20071026, 0x20080522, 0, 0xffffffff};
        h[0] = PICK(ver);
        h[1] = (unsigned int)(chance(50) ? 0 : my_pid);
        C2(chance(50) ? SYS_capget : SYS_capset, h, chance(80) ? (long)(bufs[2] + 64) : pick_buf());
        break;
    }
    case 6: C1(SYS_umask, pick_mode()); break;
    case 7: C2(SYS_setreuid, pick_uid(), pick_uid()); break;
    default: C1(chance(50) ? SYS_setuid : SYS_setgid, pick_uid()); break;
    }
    /* and make something with the new identity */
    const char *n = local_name();
    long fd = C3(SYS_open, n, O_CREAT | O_RDWR | (chance(20) ? O_EXCL : 0), 0640);
    if (fd >= 0) {
        C2(SYS_fstat, fd, bufs[0]);
        C3(SYS_fchown, fd, pick_uid(), pick_uid());
        C2(SYS_fstat, fd, bufs[0]);
        C1(SYS_close, fd);
    }
    C3(SYS_chown, n, pick_uid(), pick_uid());
    C2(SYS_stat, n, bufs[0]);
    C2(SYS_lstat, n, bufs[0]);
}

static void recipe_memfd(void)
{
    long fd = C2(SYS_memfd_create, PICK(NAMES), below(16));
    if (fd < 0)
        return;
    static const char script[] = "#!/bin/true\n";
    if (chance(50))
        C3(SYS_write, fd, script, sizeof script - 1);
    else
        C3(SYS_write, fd, randpage, below(4096));
    if (chance(30))
        C3(SYS_fcntl, fd, F_ADD_SEALS, below(32));
    use_fd(fd, 1 + (int)below(3));
}

static void recipe_xattr(void)
{
    long p = pick_path();
    long nm = pick_name();
    switch (below(6)) {
    case 0: C5(SYS_setxattr, p, nm, randpage, below(256), below(3)); break;
    case 1: C4(SYS_getxattr, p, nm, bufs[0], pick_len()); break;
    case 2: C3(SYS_listxattr, p, bufs[0], pick_len()); break;
    case 3: C4(SYS_lgetxattr, p, nm, bufs[0], 4096); break;
    case 4: C3(SYS_llistxattr, p, bufs[0], 4096); break;
    default: C2(SYS_removexattr, p, nm); break;
    }
}

static void recipe_misc(void)
{
    switch (below(10)) {
    case 0: {
        long e = C1(SYS_epoll_create1, 0);
        long t = C2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
        long s = C4(SYS_signalfd4, -1, zero_sigset, 8, 0);
        long ev = C2(SYS_eventfd2, below(10), 0);
        unsigned long evt[2] = {1, 0};
        C4(SYS_epoll_ctl, e, 1, chance(50) ? t : ev, evt);
        C4(SYS_epoll_wait, e, bufs[0], 8, 0);
        (void)s;
        break;
    }
    case 1: {
        long in = C1(SYS_inotify_init1, below(2) ? IN_NONBLOCK : 0);
        long w = C3(SYS_inotify_add_watch, in, pick_path(), chance(80) ? 0xfff : pick_flags());
        C2(SYS_inotify_rm_watch, in, w);
        break;
    }
    case 2: {
        long id = C3(SYS_shmget, 0 /* IPC_PRIVATE */, 4096 * (1 + below(4)), 01600);
        long m = C3(SYS_shmat, id, 0, 0);
        C3(SYS_shmctl, id, 0 /* IPC_RMID */, 0);
        if (m > 0)
            C1(SYS_shmdt, m);
        break;
    }
    case 3: C3(SYS_uname, bufs[0], 0, 0); C1(SYS_sysinfo, pick_buf()); C2(SYS_getcwd, pick_buf(), pick_len()); break;
    case 4: C4(SYS_wait4, -1, bufs[0], WNOHANG, bufs[1]); C5(SYS_waitid, P_ALL, 0, bufs[0], WEXITED | WNOHANG, 0); break;
    case 5: C2(SYS_kill, victim, pick_sig()); C3(SYS_tgkill, victim, victim, pick_sig()); break;
    case 6: C2(SYS_chdir, chance(50) ? "/tmp" : "/scratch", 0); C1(SYS_chdir, pick_path()); break;
    case 7: C3(SYS_execve, pick_path(), safe_argv, safe_envp); break;
    case 8: C2(SYS_pidfd_open, chance(50) ? victim : my_pid, 0); break;
    default: C5(SYS_prctl, PICK(((const long[]){15, 16, 1, 2, 3, 4, 36, 37, 38, 39, 40, 41, 42, 47, 22, 8, 0x59616d61})),
                pick_int(), pick_buf(), 0, 0); break;
    }
}

static void step(void)
{
    int r = (int)below(100);
    if (r < 72)
        random_call();
    else if (r < 78)
        recipe_open();
    else if (r < 81) {
        if (!no_fifos)
            recipe_fifo();
    }
    else if (r < 84)
        recipe_pipe();
    else if (r < 86)
        recipe_socket();
    else if (r < 91)
        recipe_tree();
    else if (r < 94)
        recipe_proc();
    else if (r < 96)
        recipe_identity();
    else if (r < 97)
        recipe_memfd();
    else if (r < 98)
        recipe_xattr();
    else
        recipe_misc();
    if (npool > POOL - 4)
        S1(SYS_close, pool[--npool]);
    if (chance(2))
        for (int i = 0; i < 4096; i++)
            randpage[i] = (unsigned char)rnd();
}

/* ----------------------------------------------------------------- workers */

static void on_alarm(int sig) { (void)sig; }

static void set_signals(int keep_alarm)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    for (int s = 1; s <= 64; s++) {
        if (s == SIGKILL || s == SIGSTOP || s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE ||
            s == SIGABRT || s == SIGSYS || s == SIGTRAP || s == SIGCHLD || s == 32 || s == 33)
            continue;
        sa.sa_handler = (s == SIGALRM && keep_alarm) ? on_alarm : SIG_IGN;
        sa.sa_flags = 0; /* no SA_RESTART: the tick interrupts blocking calls */
        sigaction(s, &sa, NULL);
    }
}

static char *zone_part(size_t *off, size_t bytes)
{
    char *p = zone + *off;
    size_t pages = (bytes + 4095) / 4096;
    mprotect(p, pages * 4096, PROT_READ | PROT_WRITE);
    *off += (pages + 1) * 4096; /* and a guard page after it */
    return p;
}

static void setup_zone(void)
{
    /* GUARD, then each part followed by a guard page, then GUARD */
    zone_size = 2 * GUARD + ((4 * sizeof(bufs_t) / 4096 + 1) + 2 + (MUTS * sizeof(mut_t) / 4096 + 1) +
                             (3 * sizeof(mut_t) / 4096 + 1) + 2) * 4096;
    zone = mmap(NULL, zone_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    size_t off = GUARD;
    bufs = (bufs_t *)zone_part(&off, 4 * sizeof(bufs_t));
    randpage = (unsigned char *)zone_part(&off, 4096);
    mutbuf = (mut_t *)zone_part(&off, MUTS * sizeof(mut_t));
    longpath = (mut_t *)zone_part(&off, 3 * sizeof(mut_t));
    char *misc = zone_part(&off, 4096);
    sabuf = misc;
    iov = (struct iovec *)(misc + 256);
    tsbuf = (struct timespec *)(misc + 512);
    procfd = (char (*)[64])(misc + 640);
    zero_sigset = (uint64_t *)(misc + 1024);
    safe_argv = (char **)(misc + 1088);
    safe_envp = (char **)(misc + 1120);
    strcpy(misc + 1200, "fuzz-exec");
    strcpy(misc + 1232, "FUZZ_EXEC=1");
    safe_argv[0] = misc + 1200;
    safe_envp[0] = misc + 1232;
}

static void make_path_strings(void)
{
    /* 4095 bytes (the longest a path may be), 4096 (one too long), 6000 */
    char *p = longpath[0];
    for (int i = 0; i < 4095; i++)
        p[i] = (i % 2) ? '/' : 'a';
    p[0] = '/';
    p[4095] = 0;
    p = longpath[1];
    memset(p, 'b', 4096);
    p[0] = '/';
    p[4096] = 0;
    p = longpath[2];
    for (int i = 0; i < 6000; i++)
        p[i] = "../"[i % 3];
    p[6000] = 0;
}

/* GUARD | arena | GUARD | read-only page | PROT_NONE page | edge page | hole
 * (unmapped) | GUARD: every address a memory call or a buffer argument gets. */
static void setup_memory(void)
{
    size_t size = GUARD + ARENA_SIZE + GUARD + 4 * 4096 + GUARD;
    char *region = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    arena = region + GUARD;
    mprotect(arena, ARENA_SIZE, PROT_READ | PROT_WRITE);
    ro_page = arena + ARENA_SIZE + GUARD;
    none_page = ro_page + 4096;
    edge_page = none_page + 4096;
    hole = edge_page + 4096;
    mprotect(edge_page, 4096, PROT_READ | PROT_WRITE);
    memset(edge_page, 'e', 4096); /* no NUL: a path here runs into the hole */
    munmap(hole, 4096);
    for (int i = 0; i < 4096; i++)
        randpage[i] = (unsigned char)rnd();
}

static void start_victim(void)
{
    victim = fork();
    if (victim == 0) {
        S2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
        S2(SYS_setpgid, 0, 0);
        for (;;)
            sleep_ms(1000);
    }
    if (victim < 0)
        victim = 99999; /* no victim: signals go to a pid that cannot exist (pid_max is lower) */
}

static void worker(int slot, uint64_t seed, uint64_t steps, int replay)
{
    me = slots[slot];
    for (int i = 0; i < MAXW; i++)
        if (i != slot && slots[i])
            munmap(slots[i], sizeof(struct slot));
    if (probe_pg)
        munmap(probe_pg, 4096);
    rng = mix(seed) | 1;
    my_pid = (pid_t)S0(SYS_getpid);
    if (!replay) {
        S2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
        S0(SYS_setsid);
    }
    set_signals(1);
    /* stdin, stdout and stderr become /dev/null; if it cannot be opened,
     * they are closed: a worker never writes into the parent's stdout. */
    if (verbose)
        S3(SYS_dup2, 2, 1000, 0);
    for (int i = 0; i < 3; i++)
        if (!(replay && i == 2))
            S1(SYS_close, i);
    long nul = S4(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR, 0);
    for (int i = 0; i < 3; i++)
        if (nul >= 0 && nul != i && !(replay && i == 2))
            S2(SYS_dup2, nul, i);
    if (nul > 2)
        S1(SYS_close, nul);
    struct rlimit rl = {256, 256};
    setrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max = 768UL << 20;
    setrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = rl.rlim_max = 4UL << 20;
    setrlimit(RLIMIT_FSIZE, &rl);
    rl.rlim_cur = rl.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &rl);
    setup_memory();
    char dir[64];
    snprintf(dir, sizeof dir, "%s/w%d", chance(50) ? "/tmp" : "/scratch", slot);
    S2(SYS_mkdir, dir, 0755);
    S1(SYS_chdir, dir);
    start_victim();
    static const char *initial[] = {"/", "/tmp", "/proc", "/proc/self", "/etc/passwd", "/scratch", "."};
    for (size_t i = 0; i < sizeof initial / sizeof initial[0]; i++)
        pool_add(S4(SYS_openat, AT_FDCWD, initial[i], O_RDONLY | (i == 4 ? 0 : O_DIRECTORY), 0));
    int p[2];
    if (S2(SYS_pipe2, p, 0) == 0) {
        pool_add(p[0]);
        pool_add(p[1]);
    }
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    int tid = -1;
    if (S3(SYS_timer_create, CLOCK_MONOTONIC, &sev, &tid) == 0) {
        tick_timer = tid;
        struct itimerspec its = {{0, 100000000}, {0, 100000000}};
        S4(SYS_timer_settime, tid, 0, &its, 0);
    }
    for (uint64_t i = 0; i < steps; i++) {
        /* Each step draws from (seed, step) alone: what earlier calls
         * returned changes their results, never the calls drawn later. */
        rng = mix(seed ^ mix(i + 1)) | 1;
        me->step = i;
        step();
    }
    S2(SYS_kill, victim, SIGKILL);
    sys6(SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

/* ------------------------------------------------------------------ prober */

static void prober(void)
{
    S2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
    set_signals(0);
    for (int i = 0; i < MAXW; i++)
        if (slots[i])
            munmap(slots[i], sizeof(struct slot));
    struct probe_page *pp = probe_pg;
    uid_t uid0 = (uid_t)S0(SYS_getuid);
    for (uint64_t seq = 0;; seq++) { /* until the parent kills it */
        struct stat st;
        uint64_t t0 = now_us();
        long r1 = S4(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0);
        long r2 = S0(SYS_getuid);
        uint64_t lat = now_us() - t0;
        int ok = r1 == 0 && r2 == (long)uid0;
        pp->probes++;
        if (!ok)
            pp->probe_bad++;
        if (lat > pp->probe_max_us)
            pp->probe_max_us = lat;
        char line[96];
        snprintf(line, sizeof line, "PROBE\t%lu\t%lu\t%d\n", (unsigned long)seq, (unsigned long)lat, ok);
        put(line);
        sleep_ms(PROBE_MS);
    }
}

/* ------------------------------------------------------------------ parent */

static int slot_ok(const struct slot *s) { return s->canary == CANARY && s->canary2 == CANARY; }

static void ring_line(const char *tag, int slot, int pid, uint64_t seed, const struct slot *s, long extra)
{
    char line[512];
    const struct ring_entry *e = &s->ring[(s->ring_pos + RING - 1) % RING];
    if (!slot_ok(s)) {
        snprintf(line, sizeof line, "%s\tslot=%d\tpid=%d\tseed=%#lx\tsig=%ld\t(its page is spoilt)\n", tag, slot, pid,
                 (unsigned long)seed, extra);
        put(line);
        return;
    }
    snprintf(line, sizeof line,
             "%s\tslot=%d\tpid=%d\tseed=%#lx\tstep=%lu\tsig=%ld\tnr=%ld\t%#lx\t%#lx\t%#lx\t%#lx\t%#lx\t%#lx\tret=%ld\n",
             tag, slot, pid, (unsigned long)seed, (unsigned long)s->step, extra, e->nr, e->a[0], e->a[1],
             e->a[2], e->a[3], e->a[4], e->a[5], e->ret);
    put(line);
}

/* The parent's totals: workers that ended are added in when reaped, live
 * ones are looked at; a slot whose canaries are gone is left out. */
static uint64_t total_calls, total_out_of_range, corrupt_slots;
static uint8_t reached_total[NREACH];


static void add_slot(const struct slot *s, uint64_t *calls, uint64_t *oor, uint8_t *reached)
{
    if (!slot_ok(s))
        return;
    *calls += s->progress;
    *oor += s->out_of_range;
    for (int i = 0; i < NREACH; i++)
        reached[i] |= s->reached[i] != 0;
}

static int count_reached(const uint8_t *r, int below_n)
{
    int n = 0;
    for (int i = 0; i < below_n; i++)
        n += r[i] != 0;
    return n;
}

static uint64_t parse_u64(const char *s) { return strtoull(s, NULL, 0); }

int main(int argc, char **argv)
{
    uint64_t seconds = 0, seed = 1, steps = 3000, replay_seed = 0;
    int workers = 4, replay = 0, known = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seconds"))
            seconds = parse_u64(argv[i + 1]), known = 1;
        else if (!strcmp(argv[i], "--seed"))
            seed = parse_u64(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers"))
            workers = (int)parse_u64(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps"))
            steps = parse_u64(argv[i + 1]);
        else if (!strcmp(argv[i], "--tag"))
            ;
        else if (!strcmp(argv[i], "--no-fifos"))
            no_fifos = (int)parse_u64(argv[i + 1]);
        else if (!strcmp(argv[i], "--replay"))
            replay_seed = parse_u64(argv[i + 1]), replay = 1, known = 1;
    }
    if (!known)
        return 0; /* exec'd by a fuzzed execve, or run by mistake */
    if (workers < 1)
        workers = 1;
    if (workers > MAXW)
        workers = MAXW;
    setup_zone();
    make_path_strings();
    for (int i = 0; i < workers; i++) {
        slots[i] = mmap(NULL, sizeof(struct slot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (slots[i] == MAP_FAILED)
            return 2;
    }
    probe_pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (probe_pg == MAP_FAILED)
        return 2;
    set_signals(0); /* pid 1: every catchable signal but SIGCHLD ignored */
    if (replay) {
        verbose = 1;
        slots[0]->canary = slots[0]->canary2 = CANARY;
        slots[0]->seed = replay_seed;
        pid_t w = fork();
        if (w == 0)
            worker(0, replay_seed, steps, 1);
        int st = 0;
        while (waitpid(w, &st, 0) < 0 && errno == EINTR)
            ;
        char line[128];
        snprintf(line, sizeof line, "REPLAY-END\tstatus=%#x\tsteps=%lu\tcalls=%lu\n", st,
                 (unsigned long)slots[0]->step, (unsigned long)slots[0]->progress);
        put(line);
        return 0;
    }

    prober_pid = fork();
    if (prober_pid == 0)
        prober();

    /* The parent's own bookkeeping, out of every worker's reach. */
    pid_t wpid[MAXW] = {0};
    uint64_t wseeds[MAXW] = {0};
    int wstuck[MAXW] = {0};
    uint64_t t_start = now_us(), deadline = t_start + seconds * 1000000u, gen = 0;
    uint64_t started = 0, crashed = 0, stuck = 0, exited = 0, last_status = t_start;
    uint64_t last_progress[MAXW] = {0}, last_change[MAXW] = {0};
    while (now_us() < deadline) {
        for (int s = 0; s < workers; s++) {
            if (wpid[s] > 0)
                continue;
            uint64_t wseed = mix(seed * 0x100000001b3ULL + gen++);
            struct slot *sl = slots[s];
            memset(sl, 0, sizeof *sl);
            sl->canary = sl->canary2 = CANARY;
            sl->seed = wseed;
            pid_t p = fork();
            if (p == 0)
                worker(s, wseed, steps, 0);
            if (p > 0) {
                wpid[s] = p;
                wseeds[s] = wseed;
                wstuck[s] = 0;
                started++;
                last_progress[s] = 0;
                last_change[s] = now_us();
            }
        }
        int st;
        pid_t p;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            for (int s = 0; s < workers; s++) {
                if (wpid[s] != p)
                    continue;
                struct slot *sl = slots[s];
                if (WIFSIGNALED(st) && !wstuck[s]) {
                    crashed++;
                    ring_line("DIED", s, p, wseeds[s], sl, WTERMSIG(st));
                } else if (!wstuck[s]) {
                    exited++;
                }
                if (!slot_ok(sl)) {
                    corrupt_slots++;
                    ring_line("SPOILT", s, p, wseeds[s], sl, 0);
                }
                add_slot(sl, &total_calls, &total_out_of_range, reached_total);
                memset(sl, 0, sizeof *sl);
                wpid[s] = 0;
            }
        }
        uint64_t t = now_us();
        for (int s = 0; s < workers; s++) {
            struct slot *sl = slots[s];
            if (wpid[s] <= 0 || wstuck[s])
                continue;
            if (sl->progress != last_progress[s]) {
                last_progress[s] = sl->progress;
                last_change[s] = t;
            } else if (t - last_change[s] > STUCK_SECONDS * 1000000u) {
                wstuck[s] = 1;
                stuck++;
                ring_line("STUCK", s, wpid[s], wseeds[s], sl, 0);
                S2(SYS_kill, wpid[s], SIGKILL);
            }
        }
        if (t - last_status > 1000000u) {
            last_status = t;
            uint64_t calls = total_calls, oor = total_out_of_range;
            uint8_t reached[NREACH];
            memcpy(reached, reached_total, sizeof reached);
            for (int s = 0; s < workers; s++)
                if (wpid[s] > 0)
                    add_slot(slots[s], &calls, &oor, reached);
            char line[128];
            snprintf(line, sizeof line, "STATUS\t%lu\t%lu\t%d\n", (unsigned long)((t - t_start) / 1000000u),
                     (unsigned long)calls, count_reached(reached, NREACH));
            put(line);
        }
        sleep_ms(20);
    }
    for (int s = 0; s < workers; s++)
        if (wpid[s] > 0)
            S2(SYS_kill, wpid[s], SIGKILL);
    S2(SYS_kill, prober_pid, SIGKILL);
    uint64_t t_end = now_us() + 5000000u;
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0 && errno == ECHILD)
            break;
        for (int s = 0; p > 0 && s < workers; s++)
            if (wpid[s] == p) {
                add_slot(slots[s], &total_calls, &total_out_of_range, reached_total);
                wpid[s] = 0;
            }
        if (p <= 0) {
            if (now_us() > t_end)
                break;
            sleep_ms(10);
        }
    }
    char line[640];
    snprintf(line, sizeof line,
             "FUZZ-SUMMARY\tseed=%lu\tseconds=%lu\tcalls=%lu\tdistinct=%d\tdistinct_all=%d\tout_of_range=%lu\t"
             "workers=%d\tstarted=%lu\texited=%lu\tcrashed=%lu\tstuck=%lu\tspoilt=%lu\tprobes=%lu\t"
             "probe_max_us=%lu\tprobe_bad=%lu\n",
             (unsigned long)seed, (unsigned long)((now_us() - t_start) / 1000000u), (unsigned long)total_calls,
             count_reached(reached_total, 470), count_reached(reached_total, NREACH),
             (unsigned long)total_out_of_range, workers, (unsigned long)started, (unsigned long)exited,
             (unsigned long)crashed, (unsigned long)stuck, (unsigned long)corrupt_slots,
             (unsigned long)probe_pg->probes, (unsigned long)probe_pg->probe_max_us,
             (unsigned long)probe_pg->probe_bad);
    put(line);
    static char reached[NREACH * 6 + 32];
    strcpy(reached, "FUZZ-REACHED\t");
    size_t n = strlen(reached);
    for (int i = 0; i < NREACH; i++)
        if (reached_total[i])
            n += (size_t)snprintf(reached + n, sizeof reached - n, "%s%d", n > 13 ? "," : "", i);
    reached[n++] = '\n';
    reached[n] = 0;
    put(reached);
    return 0;
}
