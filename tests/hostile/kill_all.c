/* kill_all: kill(-1, SIGKILL) and kill(-1, SIGTERM): "every process I may
 * signal", which on a host where the sandbox runs as root would be every
 * process of the machine, motte and the test runner included.
 *
 * What should stop it: the pid namespace confines kill(-1) to the sandbox's
 * own processes (and the library OS passes it to the kernel only inside that
 * namespace). The host `sleep`, motte and pytest must survive; motte must
 * still report the sandbox's exit.
 */
#include "hostile.h"
#include <signal.h>

int main(void)
{
    REPORT("kill_minus1_term", syscall(SYS_kill, -1, SIGTERM));
    REPORT("kill_minus1_kill", syscall(SYS_kill, -1, SIGKILL));
    REPORT("kill_0_cont", syscall(SYS_kill, 0, SIGCONT));
    printf("ALIVE\n");
    return 0;
}
