/* jit_syscall: makes raw system calls with a `syscall` instruction it writes
 * itself at run time, so that neither libc nor any fixed text address is
 * involved: from a page mapped read-write-execute, from a page written
 * read-write and then flipped to read-execute (a JIT's W^X dance), and from
 * a memfd mapped twice (one writable view, one executable view). From each
 * it opens and dumps host paths, creates a host path, mounts a tmpfs,
 * unshares a user namespace, asks PTRACE_TRACEME, sethostname, and asks
 * getuid (the virtual uid proves the call was served by the library OS, not
 * run by the kernel).
 * Usage: jit_syscall CREATEPATH READPATH...
 *
 * What should stop it: the seccomp filter decides on the call number, the
 * architecture and the arguments, never on the instruction pointer; a JIT
 * page's `syscall` is trapped and served exactly like libc's.
 */
#include "hostile.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/ptrace.h>

/* long stub(long nr, long a1, long a2, long a3, long a4, long a5) */
static const unsigned char STUB[] = {
    0x48, 0x89, 0xf8,             /* mov rax, rdi */
    0x48, 0x89, 0xf7,             /* mov rdi, rsi */
    0x48, 0x89, 0xd6,             /* mov rsi, rdx */
    0x48, 0x89, 0xca,             /* mov rdx, rcx */
    0x4d, 0x89, 0xc2,             /* mov r10, r8 */
    0x4d, 0x89, 0xc8,             /* mov r8, r9 */
    0x4c, 0x8b, 0x4c, 0x24, 0x08, /* mov r9, [rsp+8] */
    0x0f, 0x05,                   /* syscall */
    0xc3,                         /* ret */
};

typedef long (*stub_fn)(long, long, long, long, long, long, long);

static void rep(const char *variant, const char *what, const char *arg, long ret)
{
    char name[4400];
    snprintf(name, sizeof name, "%s:%s%s%s", variant, what, arg ? ":" : "", arg ? arg : "");
    report(name, ret < 0 && ret > -4096 ? -1 : ret, ret < 0 && ret > -4096 ? (int)-ret : 0);
}

static void attack(const char *variant, stub_fn sc, int argc, char **argv)
{
    rep(variant, "getuid", NULL, sc(SYS_getuid, 0, 0, 0, 0, 0, 0));
    for (int i = 2; i < argc; i++) {
        long fd = sc(SYS_openat, AT_FDCWD, (long)argv[i], O_RDONLY, 0, 0, 0);
        rep(variant, "open", argv[i], fd);
        if (fd >= 0) {
            char label[4400];
            snprintf(label, sizeof label, "%s:%s", variant, argv[i]);
            dump_fd(label, (int)fd);
            close((int)fd);
        }
        long st[32];
        rep(variant, "stat", argv[i], sc(SYS_newfstatat, AT_FDCWD, (long)argv[i], (long)st, 0, 0, 0));
    }
    rep(variant, "create", argv[1], sc(SYS_openat, AT_FDCWD, (long)argv[1], O_CREAT | O_WRONLY, 0644, 0, 0));
    rep(variant, "mkdir", argv[1], sc(SYS_mkdirat, AT_FDCWD, (long)argv[1], 0755, 0, 0, 0));
    rep(variant, "mount_tmpfs", NULL, sc(SYS_mount, (long)"none", (long)"/tmp", (long)"tmpfs", 0, 0, 0));
    rep(variant, "unshare_newuser", NULL, sc(SYS_unshare, CLONE_NEWUSER, 0, 0, 0, 0, 0));
    rep(variant, "ptrace_traceme", NULL, sc(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0));
    rep(variant, "sethostname", NULL, sc(SYS_sethostname, (long)"pwned", 5, 0, 0, 0, 0));
    rep(variant, "i386_open_nr5", argv[2 < argc ? 2 : 1], sc(5, (long)argv[2 < argc ? 2 : 1], 0, 0, 0, 0, 0));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    /* 1. read-write-execute */
    void *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REPORT("mmap_rwx", rwx == MAP_FAILED ? -1 : 0);
    if (rwx != MAP_FAILED) {
        memcpy(rwx, STUB, sizeof STUB);
        attack("rwx", (stub_fn)rwx, argc, argv);
    }
    /* 2. write, then flip to read-execute; the stub sits at the very end of
     * its page so that the `ret` is the page's last byte */
    unsigned char *wx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (wx != MAP_FAILED) {
        unsigned char *at = wx + 4096 - sizeof STUB;
        memcpy(at, STUB, sizeof STUB);
        REPORT("mprotect_rx", mprotect(wx, 4096, PROT_READ | PROT_EXEC));
        attack("wxorx", (stub_fn)at, argc, argv);
    }
    /* 3. a memfd mapped twice: written through one view, run through the other */
    errno = 0;
    long mfd = syscall(SYS_memfd_create, "jit", 0);
    report("memfd_create", mfd, errno);
    if (mfd >= 0 && ftruncate((int)mfd, 4096) == 0) {
        unsigned char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)mfd, 0);
        void *x = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, (int)mfd, 0);
        REPORT("memfd_dual_map", w == MAP_FAILED || x == MAP_FAILED ? -1 : 0);
        if (w != MAP_FAILED && x != MAP_FAILED) {
            memcpy(w, STUB, sizeof STUB);
            attack("dualmap", (stub_fn)x, argc, argv);
        }
    }
    printf("DONE\n");
    return 0;
}
