/* priority_user: scheduling and I/O priority calls whose target is a whole
 * user or group rather than a pid: setpriority(PRIO_USER, 0 = "my uid", 19),
 * with uid 0 and uid 1000 named explicitly, setpriority(PRIO_PGRP, 0, 19),
 * ioprio_set(IOPRIO_WHO_USER, ...) to the idle class, and for its own pid
 * raising its priority (nice -20, SCHED_FIFO, SCHED_DEADLINE, realtime I/O
 * class). For the kernel the sandbox runs as the invoking host user, so "all
 * processes of my user" could mean every process that user runs on the host
 * (with the tests run as root: the whole machine).
 * Usage: priority_user
 *
 * What should stop it: the kernel walks only the processes visible in the
 * caller's pid namespace for PRIO_USER and IOPRIO_WHO_USER, and raising a
 * priority needs CAP_SYS_NICE, which the sandbox does not hold. A host
 * process of the same user keeps its nice value and I/O priority.
 */
#include "hostile.h"
#include <sched.h>
#include <sys/resource.h>

struct sched_attr_ {
    unsigned int size, policy;
    unsigned long long flags;
    int nice;
    unsigned int prio;
    unsigned long long runtime, deadline, period;
};

int main(void)
{
    REPORT("prio_user_self", syscall(SYS_setpriority, PRIO_USER, 0, 19));
    REPORT("prio_user_0", syscall(SYS_setpriority, PRIO_USER, 0, 19));
    REPORT("prio_user_uid0_explicit", syscall(SYS_setpriority, PRIO_USER, 0, 18));
    REPORT("prio_user_1000", syscall(SYS_setpriority, PRIO_USER, 1000, 19));
    REPORT("prio_pgrp_0", syscall(SYS_setpriority, PRIO_PGRP, 0, 19));
    REPORT("prio_process_raise", syscall(SYS_setpriority, PRIO_PROCESS, 0, -20));
    int idle = (3 << 13) | 7; /* IOPRIO_CLASS_IDLE */
    REPORT("ioprio_user_0", syscall(SYS_ioprio_set, 3 /* IOPRIO_WHO_USER */, 0, idle));
    REPORT("ioprio_user_1000", syscall(SYS_ioprio_set, 3, 1000, idle));
    REPORT("ioprio_pgrp_0", syscall(SYS_ioprio_set, 2 /* IOPRIO_WHO_PGRP */, 0, idle));
    REPORT("ioprio_self_rt", syscall(SYS_ioprio_set, 1, 0, (1 << 13) | 0));
    struct sched_param sp = {50};
    REPORT("sched_fifo", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, &sp));
    struct sched_attr_ a = {sizeof a, 6 /* SCHED_DEADLINE */, 0, 0, 0, 10000000, 30000000, 30000000};
    REPORT("sched_deadline", syscall(SYS_sched_setattr, 0, &a, 0));
    REPORT("getpriority_user", syscall(SYS_getpriority, PRIO_USER, 0));
    printf("DONE\n");
    return 0;
}
