/* setuid_root: tries to become root (setuid, setresuid, setreuid,
 * setfsuid, setgid, setgroups, capset) and then to use whatever it got on
 * host files: the paths it is given (a root-only file of another host user
 * in a mounted directory, /etc/shadow, /root).
 * Usage: setuid_root PATH...
 *
 * What should stop it: identities are virtual, held by the library OS; an
 * unprivileged sandbox user cannot change them (EPERM), and even the
 * sandbox's root is, for the host kernel, the invoking user with no
 * capability: a file the invoker cannot read stays unreadable, and files
 * outside the view do not exist.
 */
#include "hostile.h"
#include <linux/capability.h>

int main(int argc, char **argv)
{
    REPORT("setuid0", syscall(SYS_setuid, 0));
    REPORT("setresuid0", syscall(SYS_setresuid, 0, 0, 0));
    REPORT("setreuid0", syscall(SYS_setreuid, 0, 0));
    REPORT("setgid0", syscall(SYS_setgid, 0));
    unsigned int groups[1] = {0};
    REPORT("setgroups0", syscall(SYS_setgroups, 1, groups));
    syscall(SYS_setfsuid, 0);
    REPORT("fsuid_now", syscall(SYS_setfsuid, -1));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{~0u, ~0u, ~0u}, {~0u, ~0u, ~0u}};
    REPORT("capset_all", syscall(SYS_capset, &h, d));
    REPORT("uid_now", syscall(SYS_getuid));
    REPORT("euid_now", syscall(SYS_geteuid));
    for (int i = 1; i < argc; i++)
        probe(argv[i]);
    printf("DONE\n");
    return 0;
}
