/* prctl_hostile: prctl options that would change more than the caller's own
 * harmless state: PR_SET_MM (every sub-option: the code, data, stack, brk,
 * argument and environment bounds, the auxv, the exe link, the whole map),
 * raising an ambient capability, dropping/raising the bounding set,
 * PR_SET_SECUREBITS, clearing no_new_privs, PR_SET_KEEPCAPS then setuid,
 * PR_SET_PTRACER naming a host pid or anyone, PR_SET_IO_FLUSHER,
 * PR_SET_SYSCALL_USER_DISPATCH, PR_SET_MDWE, PR_SCHED_CORE, PR_MCE_KILL,
 * PR_SET_SPECULATION_CTRL, PR_SET_TAGGED_ADDR_CTRL, PR_GET_AUXV, options
 * with the upper 32 bits set and unknown numbers. After the attempts it
 * prints READY and sleeps, so that the host can read its capabilities,
 * no_new_privs and seccomp state from /proc.
 * Usage: prctl_hostile HOSTPID SECONDS TAG   (TAG only names the process)
 *
 * What should stop it: prctl is trapped; the library OS lets through only
 * options that act on the caller alone (EINVAL for the rest), and for those
 * the kernel holds the line: no capability exists to raise, no_new_privs
 * cannot be cleared, PR_SET_MM needs CAP_SYS_RESOURCE.
 */
#include "hostile.h"
#include <linux/capability.h>
#include <sys/prctl.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long hostpid = atol(argv[1]);
    static unsigned long mem[64];
    for (int sub = 1; sub <= 15; sub++) {
        char n[64];
        snprintf(n, sizeof n, "set_mm:%d", sub);
        REPORT(n, syscall(SYS_prctl, 35 /* PR_SET_MM */, sub, (unsigned long)mem, sub >= 14 ? sizeof mem : 0, 0));
    }
    REPORT("set_mm_exe_file_stdin", syscall(SYS_prctl, 35, 13 /* PR_SET_MM_EXE_FILE */, 0, 0, 0));
    REPORT("cap_ambient_raise_sys_admin", syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0));
    REPORT("cap_ambient_raise_dac", syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_DAC_OVERRIDE, 0, 0));
    REPORT("capbset_drop", syscall(SYS_prctl, PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0));
    REPORT("capbset_read_sys_admin", syscall(SYS_prctl, PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0));
    REPORT("set_securebits_0", syscall(SYS_prctl, PR_SET_SECUREBITS, 0, 0, 0, 0));
    REPORT("clear_no_new_privs", syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    REPORT("get_no_new_privs", syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    REPORT("set_keepcaps", syscall(SYS_prctl, PR_SET_KEEPCAPS, 1, 0, 0, 0));
    REPORT("setuid0_after_keepcaps", syscall(SYS_setuid, 0));
    REPORT("set_ptracer_host", syscall(SYS_prctl, 0x59616d61, hostpid, 0, 0, 0));
    REPORT("set_ptracer_any", syscall(SYS_prctl, 0x59616d61, -1L, 0, 0, 0));
    REPORT("set_io_flusher", syscall(SYS_prctl, 57, 1, 0, 0, 0));
    REPORT("set_syscall_user_dispatch", syscall(SYS_prctl, 59, 1, 0, 0, (unsigned long)mem));
    REPORT("set_mdwe", syscall(SYS_prctl, 65, 1, 0, 0, 0));
    REPORT("sched_core_create", syscall(SYS_prctl, 62, 1, 0, 0, 0));
    REPORT("mce_kill", syscall(SYS_prctl, 33, 1, 1, 0, 0));
    REPORT("set_speculation_ctrl", syscall(SYS_prctl, 53, 0, 8, 0, 0));
    REPORT("set_tagged_addr_ctrl", syscall(SYS_prctl, 55, 1, 0, 0, 0));
    REPORT("get_auxv", syscall(SYS_prctl, 0x41555856, (unsigned long)mem, sizeof mem, 0, 0));
    REPORT("set_mm_hibits", syscall(SYS_prctl, (1L << 32) | 35, 13, 0, 0, 0));
    REPORT("option_unknown", syscall(SYS_prctl, 0x7fffffff, 0, 0, 0, 0));
    REPORT("set_name_long", syscall(SYS_prctl, PR_SET_NAME, "0123456789abcdefghijklmnop", 0, 0, 0));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{~0u, ~0u, ~0u}, {~0u, ~0u, ~0u}};
    REPORT("capset_all", syscall(SYS_capset, &h, d));
    printf("READY\n");
    fflush(stdout);
    struct timespec ts = {atoi(argv[2]), 0};
    nanosleep(&ts, NULL);
    printf("DONE\n");
    return 0;
}
