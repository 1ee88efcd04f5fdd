/* ioctl_fds: ioctl requests outside the ABI's allowed set, on every kind of
 * fd a sandbox holds: its standard streams (host pipes), /dev/null, /dev/zero,
 * /dev/urandom, a file and a directory of a read-only host mount, a file of
 * the writable layer, sockets (inet, unix, netlink), eventfd, epoll, memfd,
 * a /proc file, a pseudo-terminal pair. The requests: freeze/thaw the file
 * system (FIFREEZE/FITHAW), set the immutable and append-only flags
 * (FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR), block-device controls, the host
 * RNG's entropy count (RNDADDTOENTCNT, RNDZAPENTCNT, RNDCLEARPOOL,
 * RNDADDENTROPY, RNDRESEEDCRNG), interface and route changes (SIOCSIFFLAGS
 * to take loopback down, SIOCSIFADDR, SIOCADDRT), terminal takeovers
 * (TIOCCONS, TIOCSETD, TIOCLINUX paste, TIOCSLCKTRMIOS, TIOCVHANGUP, VT and
 * KD requests), SIOCSPGRP/FIOSETOWN to a host pid, namespace and seccomp
 * ioctls, loop and tun set-ups, a request with its upper 32 bits set, and
 * nonsense numbers.
 * Usage: ioctl_fds RO_FILE RO_DIR HOSTPID
 *
 * What should stop it: ioctl is in the ABI only for a dozen terminal and
 * non-blocking requests; anything else is trapped, and the library OS lets
 * a short list of harmless ones through and answers ENOTTY (TIOCSTI and
 * TIOCCONS: EPERM) to the rest. Nothing may succeed; the host file keeps its
 * flags and stays writable, the host's RNG and loopback are untouched.
 */
#include "hostile.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/fs.h>

struct req {
    const char *name;
    unsigned long nr;
};

static const struct req REQS[] = {
    {"FIFREEZE", 0xC0045877},
    {"FITHAW", 0xC0045878},
    {"FS_IOC_SETFLAGS", 0x40086602},
    {"FS_IOC_FSSETXATTR", 0x401C5820},
    {"FS_IOC_SETVERSION", 0x40087602},
    {"FS_IOC_ENABLE_VERITY", 0x40806685},
    {"BLKROSET", 0x125D},
    {"BLKFLSBUF", 0x1261},
    {"BLKDISCARD", 0x1277},
    {"RNDADDTOENTCNT", 0x40045201},
    {"RNDADDENTROPY", 0x40085203},
    {"RNDZAPENTCNT", 0x5204},
    {"RNDCLEARPOOL", 0x5206},
    {"RNDRESEEDCRNG", 0x5207},
    {"SIOCSIFFLAGS", 0x8914},
    {"SIOCSIFADDR", 0x8916},
    {"SIOCADDRT", 0x890B},
    {"SIOCSIFMTU", 0x8922},
    {"SIOCSIFNAME", 0x8923},
    {"SIOCSPGRP", 0x8902},
    {"FIOSETOWN", 0x8901},
    {"TIOCCONS", 0x541D},
    {"TIOCSETD", 0x5423},
    {"TIOCLINUX_PASTE", 0x541C},
    {"TIOCSLCKTRMIOS", 0x5457},
    {"TIOCVHANGUP", 0x5437},
    {"TIOCSTI_HIBITS", 0x100005412UL},
    {"KDSETMODE", 0x4B3A},
    {"KDSKBMODE", 0x4B45},
    {"VT_ACTIVATE", 0x5606},
    {"NS_GET_USERNS", 0xB701},
    {"NS_GET_PARENT", 0xB702},
    {"SECCOMP_IOCTL_NOTIF_RECV", 0xC0502100},
    {"SECCOMP_IOCTL_NOTIF_ADDFD", 0x40182103},
    {"LOOP_SET_FD", 0x4C00},
    {"LOOP_CTL_ADD", 0x4C80},
    {"TUNSETIFF", 0x400454CA},
    {"NONSENSE_FFFFFFFF", 0xFFFFFFFFUL},
    {"NONSENSE_ZERO", 0},
};

static union {
    unsigned char raw[4096];
    struct ifreq ifr;
    int i;
} argbuf;

static void attack(const char *label, int fd, long hostpid)
{
    char name[256];
    for (size_t i = 0; i < sizeof REQS / sizeof REQS[0]; i++) {
        memset(&argbuf, 0, sizeof argbuf);
        unsigned long a = (unsigned long)&argbuf;
        if (!strcmp(REQS[i].name, "FS_IOC_SETFLAGS"))
            argbuf.i = FS_IMMUTABLE_FL | FS_APPEND_FL;
        else if (!strncmp(REQS[i].name, "SIOC", 4) && strcmp(REQS[i].name, "SIOCSPGRP")) {
            snprintf(argbuf.ifr.ifr_name, IFNAMSIZ, "lo");
            argbuf.ifr.ifr_flags = 0; /* loopback down */
        } else if (!strcmp(REQS[i].name, "SIOCSPGRP") || !strcmp(REQS[i].name, "FIOSETOWN"))
            argbuf.i = (int)hostpid;
        else if (!strcmp(REQS[i].name, "TIOCLINUX_PASTE"))
            argbuf.raw[0] = 3;
        else if (!strcmp(REQS[i].name, "RNDADDTOENTCNT"))
            argbuf.i = 4096;
        else if (!strcmp(REQS[i].name, "RNDADDENTROPY"))
            argbuf.i = 4096, argbuf.raw[4] = 8;
        snprintf(name, sizeof name, "ioctl:%s:%s", label, REQS[i].name);
        REPORT(name, syscall(SYS_ioctl, fd, REQS[i].nr, a));
    }
}

static int opened(const char *path, int flags)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0644);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long hostpid = atol(argv[3]);
    struct {
        const char *label;
        int fd;
    } fds[] = {
        {"stdin", 0},
        {"stdout", 1},
        {"stderr", 2},
        {"devnull", opened("/dev/null", O_RDWR)},
        {"devzero", opened("/dev/zero", O_RDONLY)},
        {"urandom", opened("/dev/urandom", O_RDWR)},
        {"random", opened("/dev/random", O_RDONLY)},
        {"rofile", opened(argv[1], O_RDONLY)},
        {"rodir", opened(argv[2], O_RDONLY | O_DIRECTORY)},
        {"tmpfile", opened("/tmp/ioctl-target", O_RDWR | O_CREAT)},
        {"root", opened("/", O_RDONLY | O_DIRECTORY)},
        {"inet", socket(AF_INET, SOCK_DGRAM, 0)},
        {"unix", socket(AF_UNIX, SOCK_STREAM, 0)},
        {"netlink", socket(AF_NETLINK, SOCK_RAW, 0)},
        {"eventfd", eventfd(0, 0)},
        {"epoll", epoll_create1(0)},
        {"memfd", (int)syscall(SYS_memfd_create, "m", 0)},
        {"procfile", opened("/proc/self/status", O_RDONLY)},
        {"ptmx", opened("/dev/ptmx", O_RDWR | O_NOCTTY)},
    };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "fd:%s", fds[i].label);
        report(name, fds[i].fd, fds[i].fd < 0 ? errno : 0);
        if (fds[i].fd >= 0)
            attack(fds[i].label, fds[i].fd, hostpid);
    }
    /* loopback still up? */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&argbuf, 0, sizeof argbuf);
    snprintf(argbuf.ifr.ifr_name, IFNAMSIZ, "lo");
    REPORT("lo_flags_read", syscall(SYS_ioctl, s, 0x8913, &argbuf));
    printf("LOFLAGS\t%d\n", argbuf.ifr.ifr_flags);
    printf("DONE\n");
    return 0;
}
