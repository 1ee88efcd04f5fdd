/* tiocsti: pushes a command into the input queue of the terminal the
 * sandbox was given (TIOCSTI: "simulate terminal input"), so that the
 * host's shell would run it once the sandbox exits; also with the request
 * number's upper 32 bits set (the kernel reads an unsigned int), through a
 * fresh open of /dev/tty, and the other terminal takeovers: TIOCCONS
 * (redirect the console), TIOCLINUX paste, TIOCSCTTY steal.
 * Usage: tiocsti  (attacks fds 0, 1, 2 and /dev/tty)
 *
 * What should stop it: ioctl is in the ABI only for a short list of
 * harmless requests; TIOCSTI and TIOCCONS are trapped and refused by the
 * library OS (EPERM), whatever the upper bits. The host side checks that
 * no byte was queued on the terminal.
 */
#include "hostile.h"
#include <sys/ioctl.h>
#include <termios.h>

static void inject(const char *label, int fd)
{
    const char *cmd = "echo MOTTE-TIOCSTI-PWNED\n";
    char name[128];
    /* first make it our controlling terminal if nobody holds it, so that the
     * kernel itself would accept TIOCSTI from us */
    snprintf(name, sizeof name, "tiocsctty_steal:%s", label);
    REPORT(name, syscall(SYS_ioctl, fd, (unsigned long)TIOCSCTTY, 1));
    snprintf(name, sizeof name, "tiocsti:%s", label);
    errno = 0;
    long r = 0;
    for (const char *p = cmd; *p && r == 0; p++)
        r = syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, p);
    report(name, r, errno);
    snprintf(name, sizeof name, "tiocsti_highbits:%s", label);
    errno = 0;
    r = 0;
    for (const char *p = cmd; *p && r == 0; p++)
        r = syscall(SYS_ioctl, fd, (1UL << 32) | TIOCSTI, p);
    report(name, r, errno);
    snprintf(name, sizeof name, "tioccons:%s", label);
    REPORT(name, syscall(SYS_ioctl, fd, (unsigned long)TIOCCONS, 0));
    char paste[2] = {3 /* TIOCL_PASTESEL */, 0};
    snprintf(name, sizeof name, "tioclinux_paste:%s", label);
    REPORT(name, syscall(SYS_ioctl, fd, (unsigned long)TIOCLINUX, paste));
}

int main(void)
{
    inject("fd0", 0);
    inject("fd1", 1);
    inject("fd2", 2);
    errno = 0;
    long fd = syscall(SYS_openat, AT_FDCWD, "/dev/tty", O_RDWR, 0);
    report("open_dev_tty", fd, errno);
    if (fd >= 0)
        inject("devtty", (int)fd);
    printf("DONE\n");
    return 0;
}
