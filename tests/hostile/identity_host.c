/* identity_host: looks for the host's identity and kernel state and tries
 * to change it: /sys (cgroups, security, net, firmware, kernel), the host
 * parts of /proc (kcore, kallsyms, keys, key-users, sysrq-trigger, sys/kernel
 * core_pattern and modprobe), the user-namespace maps of its own process
 * (reading and writing uid_map, gid_map, setgroups), oom_score_adj
 * (-1000 would make it unkillable), loginuid, attr/current; the kernel
 * keyrings (the session, user and user-session keyrings of the invoking
 * host user are shared by uid: join, read, describe, add a key, search,
 * request a key, link, set permissions); and becoming root (setuid,
 * setresuid, setfsuid, capset) before reading its own status.
 * Usage: identity_host
 *
 * What should stop it: /sys is not in the view; /proc is synthetic and
 * read-only (only the sandbox's own processes, no kernel files, no maps to
 * write); keyring calls are denied (EPERM) by the library OS; identities
 * are virtual. The host's /proc/keys and /proc/key-users must not change.
 */
#include "hostile.h"
#include <linux/capability.h>
#include <linux/keyctl.h>

int main(void)
{
    static const char *probes[] = {
        "/sys", "/sys/fs/cgroup", "/sys/kernel/security", "/sys/class/net", "/sys/firmware", "/sys/kernel/debug",
        "/proc/kcore", "/proc/kallsyms", "/proc/keys", "/proc/key-users", "/proc/sysrq-trigger",
        "/proc/sys/kernel/core_pattern", "/proc/sys/kernel/modprobe", "/proc/self/uid_map", "/proc/self/gid_map",
        "/proc/self/setgroups", "/proc/self/ns", "/proc/self/attr/current", "/proc/self/oom_score_adj",
        "/proc/self/loginuid", "/proc/1/environ", "/proc/self/mem", "/proc/self/pagemap", "/proc/config.gz",
        "/proc/modules", "/proc/sched_debug", "/proc/timer_list", "/proc/self/auxv",
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        probe(probes[i]);
    static const struct {
        const char *path, *data;
    } writes[] = {
        {"/proc/self/uid_map", "0 0 4294967295\n"},
        {"/proc/self/gid_map", "0 0 4294967295\n"},
        {"/proc/self/setgroups", "allow\n"},
        {"/proc/self/oom_score_adj", "-1000\n"},
        {"/proc/self/loginuid", "0\n"},
        {"/proc/sysrq-trigger", "h\n"},
        {"/proc/sys/kernel/core_pattern", "|/tmp/pwn\n"},
        {"/proc/sys/kernel/hostname", "pwned\n"},
        {"/proc/self/attr/current", "unconfined\n"},
        {"/sys/kernel/uevent_helper", "/tmp/pwn\n"},
    };
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        char n[256];
        snprintf(n, sizeof n, "write:%s", writes[i].path);
        errno = 0;
        long fd = syscall(SYS_openat, AT_FDCWD, writes[i].path, O_WRONLY, 0);
        if (fd >= 0) {
            long w = write((int)fd, writes[i].data, strlen(writes[i].data));
            report(n, w, errno);
            close((int)fd);
        } else
            report(n, fd, errno);
    }
    REPORT("keyctl_get_session", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
    REPORT("keyctl_get_user", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
    REPORT("keyctl_join", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "motte-pwn"));
    char buf[4096];
    REPORT("keyctl_read_user", syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_USER_KEYRING, buf, sizeof buf));
    REPORT("keyctl_describe_session", syscall(SYS_keyctl, KEYCTL_DESCRIBE, KEY_SPEC_SESSION_KEYRING, buf, sizeof buf));
    REPORT("keyctl_search", syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", "x", 0));
    REPORT("keyctl_setperm", syscall(SYS_keyctl, KEYCTL_SETPERM, KEY_SPEC_USER_KEYRING, 0x3f3f3f3f));
    REPORT("keyctl_link", syscall(SYS_keyctl, KEYCTL_LINK, KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING));
    REPORT("add_key_user", syscall(SYS_add_key, "user", "motte-pwned", "x", 1, KEY_SPEC_USER_KEYRING));
    REPORT("add_key_session", syscall(SYS_add_key, "user", "motte-pwned", "x", 1, KEY_SPEC_SESSION_KEYRING));
    REPORT("add_key_keyring", syscall(SYS_add_key, "keyring", "motte-pwned", NULL, 0, KEY_SPEC_USER_SESSION_KEYRING));
    REPORT("request_key", syscall(SYS_request_key, "user", "motte-pwned", "callout", KEY_SPEC_USER_KEYRING));
    REPORT("setuid0", syscall(SYS_setuid, 0));
    REPORT("setresuid0", syscall(SYS_setresuid, 0, 0, 0));
    REPORT("setfsuid0_then", (syscall(SYS_setfsuid, 0), syscall(SYS_setfsuid, -1)));
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{~0u, ~0u, ~0u}, {~0u, ~0u, ~0u}};
    REPORT("capset_all", syscall(SYS_capset, &h, d));
    REPORT("uid_now", syscall(SYS_getuid));
    probe("/proc/self/status");
    printf("DONE\n");
    return 0;
}
