/* malformed: feeds the library OS garbage: unknown call numbers (1000, 500, 400, 511, 470,
 * 0x3ffffff0; not 335/336, which kernels >= 6.11 run before seccomp: uretprobe/uprobe), bad pointers ((char *)1, NULL, kernel addresses,
 * a path running into an unmapped page without a NUL), over-long paths and
 * names, huge and negative lengths, invalid flags and modes to openat,
 * openat2, statx, newfstatat, readlink, getdents64, execve, mkdir, rename,
 * symlink, utimensat, getcwd, uname, capget, getgroups/setgroups, kill,
 * ioctl, fcntl, prctl, socket, connect, and /proc paths made of nonsense
 * ("/proc/99999999999999999999/status", "/proc/self/fd/-1", ...), invalid
 * UTF-8, symlink loops.
 * Meanwhile a forked sibling keeps asking the library OS trapped questions
 * (getuid, stat, openat) and counts good answers in shared memory.
 * Output: one R line per call, "ANSWERS <before> <during> <after> <bad>",
 * then "FINAL_OK" once a normal open still works.
 *
 * What should stop a crash: every trapped call's pointer is copied through
 * /proc/PID/mem (EFAULT on a bad one), every handler failure becomes an
 * errno (never an exception out of the library OS's loop), and the loop
 * serves the other process regardless.
 */
#include "hostile.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/ioctl.h>

#define BAD ((void *)1)
#define KERNEL_PTR ((void *)0xffffffff81000000UL)

static volatile long *shared;

static void answerer(void)
{
    for (;;) {
        struct stat st;
        long uid = syscall(SYS_getuid);
        long s = syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0);
        long fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
        if (fd >= 0)
            close((int)fd);
        if (uid == shared[2] && s == 0 && fd >= 0)
            __atomic_add_fetch(&shared[0], 1, __ATOMIC_SEQ_CST);
        else
            __atomic_add_fetch(&shared[1], 1, __ATOMIC_SEQ_CST);
        usleep(2000);
    }
}

int main(void)
{
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[2] = syscall(SYS_getuid);
    pid_t helper = fork();
    if (helper == 0) {
        answerer();
        _exit(0);
    }
    usleep(200000);
    long before = shared[0];

    char stx[512], buf[4096];
    struct stat st;

    /* unknown numbers */
    REPORT("nr_1000", syscall(1000, 1, 2, 3, 4, 5, 6));
    REPORT("nr_500", syscall(500, BAD, BAD, BAD));
    REPORT("nr_400", syscall(400));
    REPORT("nr_511", syscall(511, BAD, BAD));
    REPORT("nr_3ffffff0", syscall(0x3ffffff0L));
    REPORT("nr_470", syscall(470, BAD));

    /* a path that runs into an unmapped page with no NUL */
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(two, 'a', 8192);
    munmap(two + 4096, 4096);
    char *edge = two;                  /* 4096 'a', then nothing */
    char *near_end = two + 4096 - 3;   /* "aaa" then the hole */
    static char longpath[70000];
    memset(longpath, 'b', sizeof longpath - 1);
    static char longname[600];
    memset(longname, 'c', sizeof longname - 1);
    longname[0] = '/';
    char badutf[] = "/tmp/\xff\xfe\xc0\x80-bad";

    /* openat */
    REPORT("openat_ptr1", syscall(SYS_openat, AT_FDCWD, BAD, O_RDONLY, 0));
    REPORT("openat_null", syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY, 0));
    REPORT("openat_kernel_ptr", syscall(SYS_openat, AT_FDCWD, KERNEL_PTR, O_RDONLY, 0));
    REPORT("openat_unterminated", syscall(SYS_openat, AT_FDCWD, edge, O_RDONLY, 0));
    REPORT("openat_near_end", syscall(SYS_openat, AT_FDCWD, near_end, O_RDONLY, 0));
    REPORT("openat_70000", syscall(SYS_openat, AT_FDCWD, longpath, O_RDONLY, 0));
    REPORT("openat_long_name", syscall(SYS_openat, AT_FDCWD, longname, O_RDONLY, 0));
    REPORT("openat_all_flags", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", 0xffffffffL, 0));
    REPORT("openat_flags_hi", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", 0xffffffff00000000L | O_WRONLY, 0));
    REPORT("openat_creat_badmode", syscall(SYS_openat, AT_FDCWD, "/tmp/m1", O_CREAT | O_WRONLY, 0xffffffffL));
    REPORT("openat_badfd", syscall(SYS_openat, 123456, "x", O_RDONLY, 0));
    REPORT("openat_negfd", syscall(SYS_openat, -5, "x", O_RDONLY, 0));
    REPORT("openat_hugefd", syscall(SYS_openat, 0x7fffffffL, "x", O_RDONLY, 0));
    REPORT("openat_fd64", syscall(SYS_openat, 0x100000003L, "x", O_RDONLY, 0));
    REPORT("openat_badutf8", syscall(SYS_openat, AT_FDCWD, badutf, O_RDONLY, 0));
    REPORT("openat_badutf8_creat", syscall(SYS_openat, AT_FDCWD, badutf, O_RDWR | O_CREAT, 0600));
    REPORT("openat_empty", syscall(SYS_openat, AT_FDCWD, "", O_RDONLY, 0));
    REPORT("openat_tmpfile_file", syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_TMPFILE | O_RDWR, 0600));
    REPORT("open_ptr1", syscall(SYS_open, BAD, O_RDONLY, 0));
    REPORT("creat_ptr1", syscall(SYS_creat, BAD, 0644));

    /* openat2 */
    unsigned long long how[3] = {O_RDONLY, 0, 0};
    REPORT("openat2_badhow", syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", BAD, 24));
    REPORT("openat2_hugesize", syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", how, 1L << 40));
    REPORT("openat2_size_neg", syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", how, -1L));
    unsigned long long how2[3] = {~0ULL, ~0ULL, ~0ULL};
    REPORT("openat2_garbage", syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", how2, 24));

    /* stat family */
    REPORT("statx_badbuf", syscall(SYS_statx, AT_FDCWD, "/etc/hostname", 0, 0xfff, BAD));
    REPORT("statx_kernelbuf", syscall(SYS_statx, AT_FDCWD, "/etc/hostname", 0, 0xfff, KERNEL_PTR));
    REPORT("statx_badpath", syscall(SYS_statx, AT_FDCWD, BAD, 0, 0xfff, stx));
    REPORT("statx_allflags", syscall(SYS_statx, AT_FDCWD, "/", 0xffffffffL, 0xffffffffL, stx));
    REPORT("statx_badfd_empty", syscall(SYS_statx, -1, "", 0x1000, 0xfff, stx));
    REPORT("statx_hugefd_empty", syscall(SYS_statx, 0x7fffffffL, "", 0x1000, 0xfff, stx));
    REPORT("statx_nullpath", syscall(SYS_statx, AT_FDCWD, NULL, 0, 0xfff, stx));
    REPORT("newfstatat_badbuf", syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", BAD, 0));
    REPORT("newfstatat_badflags", syscall(SYS_newfstatat, AT_FDCWD, "/etc/hostname", &st, 0xffffffffL));
    REPORT("stat_unterminated", syscall(SYS_stat, edge, &st));
    REPORT("lstat_ptr1", syscall(SYS_lstat, BAD, &st));
    REPORT("fstat_badbuf", syscall(SYS_fstat, 0, BAD));
    REPORT("fstat_badfd", syscall(SYS_fstat, 99999, &st));
    REPORT("access_badmode", syscall(SYS_access, "/etc/hostname", 0xff));
    REPORT("faccessat2_badflags", syscall(SYS_faccessat2, AT_FDCWD, "/etc/hostname", 4, 0xffffffffL));

    /* readlink */
    syscall(SYS_symlinkat, "/etc/hostname", AT_FDCWD, "/tmp/mlink");
    REPORT("readlink_neg", syscall(SYS_readlink, "/tmp/mlink", buf, -1L));
    REPORT("readlink_zero", syscall(SYS_readlink, "/tmp/mlink", buf, 0));
    REPORT("readlink_huge", syscall(SYS_readlink, "/tmp/mlink", buf, 1L << 40));
    REPORT("readlink_int_max", syscall(SYS_readlink, "/tmp/mlink", buf, 0x7fffffffL));
    REPORT("readlink_badbuf", syscall(SYS_readlink, "/tmp/mlink", BAD, 100));
    REPORT("readlink_badpath", syscall(SYS_readlink, BAD, buf, 100));
    REPORT("readlinkat_badfd", syscall(SYS_readlinkat, 77777, "x", buf, 100));
    REPORT("readlink_proc_self_fd_neg", syscall(SYS_readlink, "/proc/self/fd/-1", buf, 100));

    /* getdents64 (an ABI call: the kernel answers) */
    int dfd = open("/etc", O_RDONLY | O_DIRECTORY);
    REPORT("getdents_badbuf", syscall(SYS_getdents64, dfd, BAD, 4096));
    REPORT("getdents_kernelbuf", syscall(SYS_getdents64, dfd, KERNEL_PTR, 4096));
    REPORT("getdents_zero", syscall(SYS_getdents64, dfd, buf, 0));
    REPORT("getdents_huge", syscall(SYS_getdents64, dfd, buf, 1L << 40));
    REPORT("getdents_badfd", syscall(SYS_getdents64, -1, buf, sizeof buf));
    REPORT("getdents_file", syscall(SYS_getdents64, 1, buf, sizeof buf));

    /* modification calls */
    REPORT("mkdir_ptr1", syscall(SYS_mkdir, BAD, 0755));
    REPORT("mkdir_badmode", syscall(SYS_mkdir, "/tmp/mdir", 0xffffffffL));
    REPORT("mkdir_dotdot", syscall(SYS_mkdir, "/tmp/..", 0755));
    REPORT("mkdir_root", syscall(SYS_mkdir, "/", 0755));
    REPORT("rename_bad", syscall(SYS_rename, BAD, (void *)2));
    REPORT("rename_root", syscall(SYS_rename, "/", "/tmp/x"));
    REPORT("renameat2_badflags", syscall(SYS_renameat2, AT_FDCWD, "/tmp/mlink", AT_FDCWD, "/tmp/y", 0xffffffffL));
    REPORT("renameat2_whiteout", syscall(SYS_renameat2, AT_FDCWD, "/tmp/mlink", AT_FDCWD, "/tmp/y", 4));
    REPORT("symlink_badtarget", syscall(SYS_symlink, BAD, "/tmp/s"));
    REPORT("symlink_emptytarget", syscall(SYS_symlink, "", "/tmp/s"));
    REPORT("unlink_null", syscall(SYS_unlink, NULL));
    REPORT("unlinkat_badflags", syscall(SYS_unlinkat, AT_FDCWD, "/tmp/mlink", 0xffffffffL));
    REPORT("linkat_badflags", syscall(SYS_linkat, AT_FDCWD, "/tmp/mlink", AT_FDCWD, "/tmp/l2", 0xffffffffL));
    REPORT("linkat_empty_path_badfd", syscall(SYS_linkat, 4444, "", AT_FDCWD, "/tmp/l3", 0x1000));
    REPORT("mknod_badmode", syscall(SYS_mknod, "/tmp/mn", 0xffffffffL, 0));
    REPORT("chmod_ptr1", syscall(SYS_chmod, BAD, 0755));
    REPORT("fchmod_badfd", syscall(SYS_fchmod, 99999, 0755));
    REPORT("fchownat_badflags", syscall(SYS_fchownat, AT_FDCWD, "/tmp", 0, 0, 0xffffffffL));
    REPORT("utimensat_badtimes", syscall(SYS_utimensat, AT_FDCWD, "/tmp", BAD, 0));
    REPORT("utimensat_nullpath_cwd", syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0));
    REPORT("utimensat_badfd", syscall(SYS_utimensat, 99999, NULL, NULL, 0));
    REPORT("truncate_neg", syscall(SYS_truncate, "/tmp/mlink", -1L));
    REPORT("truncate_ptr1", syscall(SYS_truncate, BAD, 0));
    REPORT("chdir_ptr1", syscall(SYS_chdir, BAD));
    REPORT("chdir_file", syscall(SYS_chdir, "/etc/hostname"));
    REPORT("fchdir_neg", syscall(SYS_fchdir, -1));
    REPORT("fchdir_badfd", syscall(SYS_fchdir, 99999));
    REPORT("fchdir_pipe", syscall(SYS_fchdir, 1));

    /* exec */
    REPORT("execve_ptr1", syscall(SYS_execve, BAD, NULL, NULL));
    REPORT("execve_badargv", syscall(SYS_execve, "/bin/true", BAD, NULL));
    REPORT("execve_dir", syscall(SYS_execve, "/tmp", NULL, NULL));
    REPORT("execve_proc", syscall(SYS_execve, "/proc/self/status", NULL, NULL));
    REPORT("execveat_badfd", syscall(SYS_execveat, 99999, "", NULL, NULL, 0x1000));
    REPORT("execveat_badflags", syscall(SYS_execveat, AT_FDCWD, "/bin/true", NULL, NULL, 0xffffffffL));

    /* identity, info */
    REPORT("getcwd_zero", syscall(SYS_getcwd, buf, 0));
    REPORT("getcwd_badbuf", syscall(SYS_getcwd, BAD, 100));
    REPORT("getcwd_huge", syscall(SYS_getcwd, buf, 1L << 62));
    REPORT("uname_bad", syscall(SYS_uname, BAD));
    /* results written into memory the process may not write: a read-only
     * page (mapped so, and one made so by mprotect before any call wrote
     * there) and a PROT_NONE page: the kernel faults (EFAULT), and the page
     * must keep its bytes */
    char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(ro, 'R', 4096);
    mprotect(ro, 4096, PROT_READ);
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct stat rost;
    REPORT("uname_readonly", syscall(SYS_uname, ro));
    REPORT("stat_readonly", syscall(SYS_newfstatat, AT_FDCWD, "/", (struct stat *)ro, 0));
    REPORT("getcwd_readonly", syscall(SYS_getcwd, ro, 100));
    REPORT("readlink_readonly", syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", ro, 100));
    REPORT("uname_prot_none", syscall(SYS_uname, none));
    REPORT("getresuid_readonly", syscall(SYS_getresuid, ro, ro + 4, ro + 8));
    REPORT("readonly_page_intact", ro[0] == 'R' && ro[100] == 'R' && ro[4095] == 'R' ? 0 : -1);
    REPORT("stat_writable_after", syscall(SYS_newfstatat, AT_FDCWD, "/", &rost, 0));
    REPORT("sysinfo_bad", syscall(SYS_sysinfo, BAD));
    REPORT("capget_bad", syscall(SYS_capget, BAD, BAD));
    unsigned int hdr[2] = {0x12345678, 0};
    REPORT("capget_badversion", syscall(SYS_capget, hdr, buf));
    REPORT("getgroups_neg", syscall(SYS_getgroups, -1, buf));
    REPORT("getgroups_badbuf", syscall(SYS_getgroups, 100, BAD));
    REPORT("setgroups_huge", syscall(SYS_setgroups, 1 << 30, buf));
    REPORT("getresuid_bad", syscall(SYS_getresuid, BAD, BAD, BAD));
    REPORT("setuid_neg", syscall(SYS_setuid, -5));
    REPORT("getxattr_bad", syscall(SYS_getxattr, BAD, BAD, BAD, 100));
    REPORT("listxattr_badpath", syscall(SYS_listxattr, BAD, buf, 100));

    /* signals, controls */
    REPORT("kill_badsig", syscall(SYS_kill, 1, 1000));
    REPORT("kill_intmin", syscall(SYS_kill, (long)(int)0x80000000, 0));
    REPORT("kill_hugepid", syscall(SYS_kill, 0x7fffffffL, 0));
    REPORT("tgkill_neg", syscall(SYS_tgkill, -1, -1, 9));
    REPORT("ioctl_random", syscall(SYS_ioctl, 0, 0xdeadbeefL, BAD));
    REPORT("ioctl_badfd", syscall(SYS_ioctl, 99999, 0x5401, BAD));
    REPORT("fcntl_random", syscall(SYS_fcntl, 0, 12345, 0));
    REPORT("prctl_random", syscall(SYS_prctl, 9999, 0, 0, 0, 0));
    REPORT("arch_prctl_random", syscall(SYS_arch_prctl, 0x9999, 0));
    REPORT("personality_random", syscall(SYS_personality, 0x12345678));
    REPORT("socket_badfamily", syscall(SYS_socket, 12345, 1, 0));
    REPORT("socket_netlink_audit", syscall(SYS_socket, 16, 3, 9));
    int us = socket(AF_UNIX, SOCK_STREAM, 0);
    REPORT("connect_badaddr", syscall(SYS_connect, us, BAD, 110));
    struct sockaddr_un un;
    memset(&un, 'z', sizeof un);
    un.sun_family = AF_UNIX;
    REPORT("connect_unterminated", syscall(SYS_connect, us, &un, sizeof un));
    REPORT("bind_hugelen", syscall(SYS_bind, us, &un, 0x7fffffffL));
    REPORT("clone_badflags", syscall(SYS_clone, 0xffffffffffffffffL, 0, 0, 0, 0));
    REPORT("wait4_badstatus", syscall(SYS_wait4, -1, BAD, 1 /* WNOHANG */, 0));

    /* /proc nonsense */
    probe("/proc/99999999999999999999999/status");
    probe("/proc/-1/status");
    probe("/proc/self/fd/99999999999999999999");
    probe("/proc/self/fd/-1");
    probe("/proc/self/fdinfo/999999");
    probe("/proc/self/task/999999/status");
    probe("/proc/self/task/../../../..");
    probe("/proc/self/fd/0/../..");
    probe("/proc/sys/../../..");
    probe("/proc/\xff\xfe");
    REPORT("mkdir_proc", syscall(SYS_mkdir, "/proc/x", 0755));
    REPORT("unlink_proc", syscall(SYS_unlink, "/proc/self/status"));
    REPORT("open_proc_write", syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_WRONLY, 0));

    /* loops */
    syscall(SYS_symlinkat, "/tmp/mloop2", AT_FDCWD, "/tmp/mloop1");
    syscall(SYS_symlinkat, "/tmp/mloop1", AT_FDCWD, "/tmp/mloop2");
    REPORT("open_loop", syscall(SYS_openat, AT_FDCWD, "/tmp/mloop1", O_RDONLY, 0));
    REPORT("stat_loop", syscall(SYS_stat, "/tmp/mloop1/x", &st));
    syscall(SYS_symlinkat, "/proc/self/cwd/tmp/mself", AT_FDCWD, "/tmp/mself");
    REPORT("open_proc_loop", syscall(SYS_openat, AT_FDCWD, "/tmp/mself", O_RDONLY, 0));

    long during = shared[0];
    usleep(300000);
    long after = shared[0];
    printf("ANSWERS\t%ld\t%ld\t%ld\t%ld\n", before, during, after, shared[1]);
    kill(helper, SIGKILL);
    waitpid(helper, NULL, 0);

    long fd = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY, 0);
    if (fd >= 0 && read((int)fd, buf, sizeof buf) > 0)
        printf("FINAL_OK\n");
    return 0;
}
