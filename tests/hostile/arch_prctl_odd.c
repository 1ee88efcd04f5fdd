/* arch_prctl_odd: arch_prctl codes beyond the ABI's two TLS codes, and the
 * TLS codes with hostile values: ARCH_MAP_VDSO_64/32/X32 (map another vDSO
 * image anywhere), ARCH_REQ_XCOMP_PERM (AMX state), ARCH_ENABLE_TAGGED_ADDR
 * (LAM), the shadow-stack codes (ARCH_SHSTK_ENABLE/DISABLE/LOCK/UNLOCK),
 * ARCH_SET_CPUID (CPUID faulting), ARCH_SET_GS/FS with a kernel address or a
 * non-canonical one, codes with the upper 32 bits set, a negative code and
 * unknown ones. Setting FS to garbage runs in a forked child (its libc
 * would crash); "CHILD <name> exit|signal N" says how it ended.
 *
 * What should stop it: the filter lets through only ARCH_SET_FS and
 * ARCH_GET_FS; the library OS lets GS, CPUID faulting and the CET status
 * through (the caller's own state) and answers EINVAL to the rest; the
 * kernel refuses base addresses outside user space (EPERM).
 */
#include "hostile.h"
#include <signal.h>
#include <sys/wait.h>

static void child_set_fs(const char *name, unsigned long addr)
{
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        long r = syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, addr);
        /* no libc from here on: TLS may be gone */
        char msg[64];
        int n = snprintf(msg, sizeof msg, "SETFS\t%s\t%ld\n", name, r);
        syscall(SYS_write, 1, msg, n);
        syscall(SYS_exit_group, 0);
    }
    int st = 0;
    waitpid(p, &st, 0);
    if (WIFSIGNALED(st))
        printf("CHILD\t%s\tsignal\t%d\n", name, WTERMSIG(st));
    else
        printf("CHILD\t%s\texit\t%d\n", name, WEXITSTATUS(st));
    fflush(stdout);
}

int main(void)
{
    static unsigned long out[64];
    unsigned long gs = 0;
    REPORT("get_gs", syscall(SYS_arch_prctl, 0x1004, &gs));
    REPORT("set_gs_kernel", syscall(SYS_arch_prctl, 0x1001, 0xffffffff81000000UL));
    REPORT("set_gs_noncanonical", syscall(SYS_arch_prctl, 0x1001, 0x0000900000000000UL));
    REPORT("set_fs_kernel", syscall(SYS_arch_prctl, 0x1002, 0xffffffff81000000UL));
    REPORT("set_fs_noncanonical", syscall(SYS_arch_prctl, 0x1002, 0x8000000000000000UL));
    REPORT("get_fs_kernel_ptr", syscall(SYS_arch_prctl, 0x1003, 0xffffffff81000000UL));
    REPORT("get_cpuid", syscall(SYS_arch_prctl, 0x1011, 0));
    REPORT("get_xcomp_supp", syscall(SYS_arch_prctl, 0x1021, out));
    REPORT("get_xcomp_perm", syscall(SYS_arch_prctl, 0x1022, out));
    REPORT("req_xcomp_perm_amx", syscall(SYS_arch_prctl, 0x1023, 18));
    REPORT("map_vdso_x32", syscall(SYS_arch_prctl, 0x2001, 0x100000000UL));
    REPORT("map_vdso_32", syscall(SYS_arch_prctl, 0x2002, 0x100000000UL));
    REPORT("map_vdso_64", syscall(SYS_arch_prctl, 0x2003, 0x100000000UL));
    REPORT("get_untag_mask", syscall(SYS_arch_prctl, 0x4001, out));
    REPORT("enable_tagged_addr", syscall(SYS_arch_prctl, 0x4002, 6));
    REPORT("force_tagged_sva", syscall(SYS_arch_prctl, 0x4004, 0));
    REPORT("shstk_enable", syscall(SYS_arch_prctl, 0x5001, 1));
    REPORT("shstk_disable", syscall(SYS_arch_prctl, 0x5002, 1));
    REPORT("shstk_lock", syscall(SYS_arch_prctl, 0x5003, 1));
    REPORT("shstk_unlock", syscall(SYS_arch_prctl, 0x5004, 1));
    REPORT("shstk_status", syscall(SYS_arch_prctl, 0x5005, out));
    REPORT("code_hibits_map_vdso", syscall(SYS_arch_prctl, (1UL << 32) | 0x2003, 0x100000000UL));
    REPORT("code_negative", syscall(SYS_arch_prctl, -1L, 0));
    REPORT("code_zero", syscall(SYS_arch_prctl, 0, 0));
    REPORT("code_unknown", syscall(SYS_arch_prctl, 0x9999, 0));
    REPORT("set_cpuid_off", syscall(SYS_arch_prctl, 0x1012, 0));
    child_set_fs("set_fs_garbage", 0x4141414141UL);
    child_set_fs("set_fs_zero", 0);
    printf("ALIVE\n");
    return 0;
}
