/* privileged: the classic container-escape system calls, made raw:
 * open_by_handle_at with a forged handle for inode 2 of the host's root
 * filesystem ("shocker"), name_to_handle_at, ptrace (PTRACE_ATTACH and
 * PTRACE_SEIZE on a sibling it forked, PTRACE_TRACEME in that sibling),
 * mount (tmpfs, proc, a bind of "/", a remount rw of "/usr"), umount2,
 * pivot_root, chroot (and the chroot-then-chdir("..") climb), unshare and
 * clone with CLONE_NEWUSER / CLONE_NEWNS / CLONE_NEWPID, clone3, setns,
 * bpf, keyctl, add_key, perf_event_open, io_uring_setup, userfaultfd,
 * kexec_load, init_module, finit_module, delete_module, reboot, iopl,
 * ioperm, modify_ldt, pidfd_getfd, process_vm_readv/writev on the sibling,
 * kcmp, fsopen, open_tree, move_mount, fanotify_init, sethostname,
 * setdomainname, settimeofday, clock_settime, swapon, acct, syslog,
 * mknod of a block and a char device, SCHED_FIFO, raising a hard rlimit.
 *
 * What should stop it: each of these is trapped by the seccomp filter
 * (clone with a namespace flag is never allowed natively) and answered by
 * the library OS's deny list with EPERM (name_to_handle_at: EOPNOTSUPP,
 * clone3: ENOSYS, device mknod: EPERM); for the few the kernel runs
 * (sched_setscheduler, setrlimit) the sandbox holds no capability. Nothing
 * may succeed, and the host's mounts, hostname and clock must not change.
 */
#include "hostile.h"
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

struct handle8 {
    unsigned int handle_bytes;
    int handle_type;
    unsigned char f_handle[8];
};

int main(void)
{
    /* a sibling to trace */
    int pfd[2];
    if (pipe(pfd) != 0)
        return 3;
    pid_t child = fork();
    if (child == 0) {
        errno = 0;
        long r = syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
        report("ptrace_traceme", r, errno);
        char c;
        read(pfd[0], &c, 1);
        _exit(0);
    }
    usleep(100000);
    REPORT("ptrace_attach_sibling", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, child, 0, 0));
    REPORT("ptrace_seize_sibling", syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, child, 0, 0));
    REPORT("ptrace_peek_sibling", syscall(SYS_ptrace, 1 /* PTRACE_PEEKTEXT */, child, 0x400000, 0));
    char buf[16];
    struct iovec lo = {buf, sizeof buf}, re = {(void *)0x400000, sizeof buf};
    REPORT("process_vm_readv_sibling", syscall(SYS_process_vm_readv, child, &lo, 1, &re, 1, 0));
    REPORT("process_vm_writev_sibling", syscall(SYS_process_vm_writev, child, &lo, 1, &re, 1, 0));
    REPORT("kcmp", syscall(SYS_kcmp, getpid(), child, 0 /* KCMP_FILE */, 0, 0));
    errno = 0;
    long pidfd = syscall(SYS_pidfd_open, child, 0);
    report("pidfd_open_sibling", pidfd, errno);
    REPORT("pidfd_getfd", syscall(SYS_pidfd_getfd, pidfd >= 0 ? pidfd : 0, 0, 0));

    /* shocker: a forged handle for the host root filesystem's root inode */
    struct handle8 h = {8, 1 /* FILEID_INO32_GEN */, {2, 0, 0, 0, 0, 0, 0, 0}};
    int rootfd = open("/", O_RDONLY | O_DIRECTORY);
    REPORT("open_by_handle_at", syscall(SYS_open_by_handle_at, rootfd, &h, O_RDONLY));
    REPORT("open_by_handle_at_cwd", syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY | O_DIRECTORY));
    struct handle8 out = {8, 0, {0}};
    int mnt = 0;
    REPORT("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/etc/hostname", &out, &mnt, 0));

    /* mounts */
    REPORT("mount_tmpfs", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
    REPORT("mount_proc", syscall(SYS_mount, "proc", "/tmp", "proc", 0, NULL));
    REPORT("mount_bind_root", syscall(SYS_mount, "/", "/tmp", NULL, MS_BIND | MS_REC, NULL));
    REPORT("mount_remount_usr_rw", syscall(SYS_mount, NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL));
    REPORT("umount2_root", syscall(SYS_umount2, "/", MNT_DETACH));
    REPORT("umount2_proc", syscall(SYS_umount2, "/proc", MNT_DETACH));
    REPORT("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
    REPORT("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
    REPORT("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */));
    REPORT("move_mount", syscall(SYS_move_mount, AT_FDCWD, "/tmp", AT_FDCWD, "/usr", 0));

    /* chroot and the classic climb out of it */
    syscall(SYS_mkdirat, AT_FDCWD, "/tmp/jail", 0755);
    REPORT("chroot", syscall(SYS_chroot, "/tmp/jail"));
    for (int i = 0; i < 10; i++)
        syscall(SYS_chdir, "..");
    REPORT("chroot_dot", syscall(SYS_chroot, "."));

    /* namespaces */
    REPORT("unshare_newuser", syscall(SYS_unshare, CLONE_NEWUSER));
    REPORT("unshare_newns", syscall(SYS_unshare, CLONE_NEWNS));
    REPORT("unshare_newpid", syscall(SYS_unshare, CLONE_NEWPID));
    REPORT("unshare_newnet", syscall(SYS_unshare, CLONE_NEWNET));
    REPORT("setns", syscall(SYS_setns, rootfd, 0));
    errno = 0;
    long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c == 0)
        _exit(0);
    report("clone_newuser", c, errno);
    if (c > 0)
        waitpid((pid_t)c, NULL, 0);
    errno = 0;
    c = syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
    if (c == 0)
        _exit(0);
    report("clone_newns_newpid", c, errno);
    if (c > 0)
        waitpid((pid_t)c, NULL, 0);
    unsigned long long cl_args[11] = {CLONE_NEWUSER, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0};
    errno = 0;
    c = syscall(SYS_clone3, cl_args, sizeof cl_args);
    if (c == 0)
        _exit(0);
    report("clone3_newuser", c, errno);

    /* kernel facilities */
    char attr[128] = {0};
    REPORT("bpf", syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof attr));
    REPORT("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
    REPORT("add_key", syscall(SYS_add_key, "user", "motte", "x", 1, -3));
    REPORT("request_key", syscall(SYS_request_key, "user", "motte", NULL, 0));
    unsigned char pe[128] = {0};
    pe[4] = 128; /* size */
    REPORT("perf_event_open", syscall(SYS_perf_event_open, pe, 0, -1, -1, 0));
    unsigned char ur[120] = {0};
    REPORT("io_uring_setup", syscall(SYS_io_uring_setup, 8, ur));
    REPORT("userfaultfd", syscall(SYS_userfaultfd, 0));
    REPORT("fanotify_init", syscall(SYS_fanotify_init, 0, 0));
    REPORT("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    REPORT("init_module", syscall(SYS_init_module, "x", 1, ""));
    REPORT("finit_module", syscall(SYS_finit_module, rootfd, "", 0));
    REPORT("delete_module", syscall(SYS_delete_module, "ext4", 0));
    REPORT("reboot", syscall(SYS_reboot, 0xfee1dead, 672274793, 0x4321fedc /* POWER_OFF */, NULL));
    REPORT("iopl", syscall(SYS_iopl, 3));
    REPORT("ioperm", syscall(SYS_ioperm, 0x80, 1, 1));
    REPORT("modify_ldt", syscall(SYS_modify_ldt, 1, attr, 16));
    REPORT("sethostname", syscall(SYS_sethostname, "pwned", 5));
    REPORT("setdomainname", syscall(SYS_setdomainname, "pwned", 5));
    struct timeval tv = {1, 0};
    REPORT("settimeofday", syscall(SYS_settimeofday, &tv, NULL));
    struct timespec ts = {1, 0};
    REPORT("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
    REPORT("swapon", syscall(SYS_swapon, "/etc/hostname", 0));
    REPORT("acct", syscall(SYS_acct, "/tmp/acct"));
    REPORT("syslog_read", syscall(SYS_syslog, 3 /* READ_ALL */, buf, sizeof buf));
    REPORT("mknod_block", syscall(SYS_mknodat, AT_FDCWD, "/tmp/sda", S_IFBLK | 0600, makedev(8, 0)));
    REPORT("mknod_char_mem", syscall(SYS_mknodat, AT_FDCWD, "/tmp/mem", S_IFCHR | 0600, makedev(1, 1)));
    struct sched_param sp = {50};
    REPORT("sched_setscheduler_fifo", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp));
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_max = rl.rlim_max * 4 + 4096;
    rl.rlim_cur = rl.rlim_max;
    REPORT("setrlimit_raise_hard", syscall(SYS_setrlimit, RLIMIT_NOFILE, &rl));

    write(pfd[1], "x", 1);
    waitpid(child, NULL, 0);
    printf("DONE\n");
    return 0;
}
