/* race_symswap: swaps a directory and a symlink during the walk. In a
 * directory of its own, a real directory "d" (holding "f") and a symlink "l"
 * to TARGET (the sandbox's "/", "../../../../../..", a host directory's host
 * path, "/proc/self/root/../../..") are exchanged, over and over, by a
 * second thread (renameat2 RENAME_EXCHANGE), while the main thread opens
 * paths through "d": d/f, d/etc/shadow, d/<suffixes given>, d/../../../..,
 * chdirs into d and climbs "../../../../..", and lists whatever directory
 * it opens. The idea: a resolver that checks the walk so far and then
 * continues from a name that has meanwhile become a symlink out of the
 * root.
 * Usage: race_symswap SECONDS TARGET SUFFIX...
 * Output: DATA/DENT lines for what it read (the first few listings of each
 * path), counters.
 *
 * What should stop it: the library OS hands each walk to the kernel in one
 * openat2(RESOLVE_IN_ROOT) from the sandbox's root; the kernel re-checks `..`
 * and symlinks against that root even while things are renamed under it,
 * and the root holds only the view. Nothing listed or read may be the host's.
 */
#include "race.h"
#include <sys/stat.h>

static volatile int stop;
static unsigned long swaps;

static void *swapper(void *p)
{
    (void)p;
    while (!stop)
        if (syscall(SYS_renameat2, AT_FDCWD, "/tmp/sw/d", AT_FDCWD, "/tmp/sw/l", 2 /* RENAME_EXCHANGE */) == 0)
            swaps++;
    return NULL;
}

static int listed;

static void try_open(const char *path, unsigned long *ok)
{
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_NONBLOCK, 0);
    if (fd < 0)
        return;
    (*ok)++;
    struct stat st;
    fstat((int)fd, &st);
    if (listed++ < 60) {
        if (S_ISDIR(st.st_mode))
            list_fd(path, (int)fd);
        else
            dump_fd(path, (int)fd);
    }
    close((int)fd);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    double secs = atof(argv[1]);
    mkdir("/tmp/sw", 0755);
    mkdir("/tmp/sw/d", 0755);
    int f = (int)syscall(SYS_openat, AT_FDCWD, "/tmp/sw/d/f", O_CREAT | O_WRONLY, 0644);
    write(f, "SWAP-HARMLESS\n", 14);
    close(f);
    REPORT("symlink", syscall(SYS_symlinkat, argv[2], AT_FDCWD, "/tmp/sw/l"));
    char paths[24][4200];
    int np = 0;
    snprintf(paths[np++], 4200, "/tmp/sw/d/f");
    snprintf(paths[np++], 4200, "/tmp/sw/d/etc/shadow");
    snprintf(paths[np++], 4200, "/tmp/sw/d/../../../../../etc/shadow");
    snprintf(paths[np++], 4200, "/tmp/sw/d/../../../../..");
    snprintf(paths[np++], 4200, "/tmp/sw/d/");
    for (int i = 3; i < argc && np < 24; i++)
        snprintf(paths[np++], 4200, "/tmp/sw/d/%s", argv[i]);
    pthread_t th;
    pthread_create(&th, NULL, swapper, NULL);
    unsigned long ok = 0, cd_ok = 0, iters = 0;
    double end = mono() + secs;
    while (mono() < end) {
        for (int i = 0; i < np; i++)
            try_open(paths[i], &ok);
        if (syscall(SYS_chdir, "/tmp/sw/d") == 0) {
            cd_ok++;
            try_open("../../../../../..", &ok);
            for (int i = 3; i < argc; i++) {
                char rel[4300];
                snprintf(rel, sizeof rel, "../../../../../../%s", argv[i]);
                try_open(rel, &ok);
            }
            char cwd[4096];
            if (getcwd(cwd, sizeof cwd) && strncmp(cwd, "/tmp/sw/", 8) && listed++ < 60)
                printf("CWD\t%s\n", cwd);
            syscall(SYS_chdir, "/tmp");
        }
        iters++;
    }
    stop = 1;
    pthread_join(th, NULL);
    count("iterations", iters);
    count("swaps", swaps);
    count("opened", ok);
    count("chdir_ok", cd_ok);
    printf("DONE\n");
    return 0;
}
