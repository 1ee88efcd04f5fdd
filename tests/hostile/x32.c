/* x32: makes system calls with the x32 ABI bit (0x40000000) set in the call
 * number: x32 openat/open of a file and of a file to create, x32 write to
 * stdout, x32 getpid, and the x32-only numbers 512-547 (x32 execve 520,
 * x32 ptrace 521, ...). Also numbers with garbage in the upper 32 bits
 * ((1<<32)|39) and the out-of-range ones (-1, 0x3fffffff).
 * Usage: x32 READPATH CREATEPATH
 *
 * What should stop it: the filter answers ENOSYS for every number with the
 * x32 bit before looking at anything else, so none of these reaches the
 * kernel or the library OS: nothing is read, written or created.
 */
#include "hostile.h"

#define X32 0x40000000L

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    char buf[256];
    REPORT("x32_openat_read", syscall(X32 | SYS_openat, AT_FDCWD, argv[1], O_RDONLY, 0));
    REPORT("x32_open_read", syscall(X32 | SYS_open, argv[1], O_RDONLY, 0));
    REPORT("x32_openat_create", syscall(X32 | SYS_openat, AT_FDCWD, argv[2], O_CREAT | O_WRONLY, 0644));
    REPORT("x32_write_stdout", syscall(X32 | SYS_write, 1, "X32-WRITE-LEAKED\n", 17));
    REPORT("x32_getpid", syscall(X32 | SYS_getpid));
    REPORT("x32_read", syscall(X32 | SYS_read, 0, buf, sizeof buf));
    REPORT("x32_mkdir", syscall(X32 | SYS_mkdir, argv[2], 0755));
    for (long nr = 512; nr <= 547; nr++) {
        char name[64];
        snprintf(name, sizeof name, "x32_nr_%ld", nr);
        REPORT(name, syscall(X32 | nr, 0, 0, 0, 0, 0, 0));
    }
    REPORT("nr_minus1", syscall(-1L));
    REPORT("nr_3fffffff", syscall(0x3fffffffL));
    REPORT("nr_ffffffff", syscall(0xffffffffL));
    /* upper half of the number: the kernel and seccomp both use the low 32
     * bits, so this is getpid for both (it must match getpid()) */
    long hi = syscall((1L << 32) | SYS_getpid);
    printf("HIGHBITS_GETPID\t%ld\t%ld\n", hi, (long)getpid());
    printf("DONE\n");
    return 0;
}
