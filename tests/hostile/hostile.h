/* hostile.h: helpers shared by the hostile programs (not an attack itself).
 *
 * Every program reports on stdout, one line per attempt, tab-separated, so
 * that tests/test_isolation.py can judge from the host side:
 *
 *   R  <name>  <return value>  <errno name or OK>
 *   DATA  <path>  <hex of the bytes read>      (what a probe managed to read)
 *   DENT  <path>  <name>                       (what a probe managed to list)
 *   R  <name>  <count>  OK                     (a counter, see count())
 *
 * Raw syscall(2) is used throughout so that libc cannot second-guess an
 * argument before the sandbox sees it.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static __attribute__((unused)) const char *ename(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "E?";
}

static __attribute__((unused)) void report(const char *name, long ret, int err)
{
    printf("R\t%s\t%ld\t%s\n", name, ret, ret < 0 ? ename(err) : "OK");
    fflush(stdout);
}

/* A counter (how many times something happened), as an R line. */
static __attribute__((unused)) void count(const char *name, unsigned long v)
{
    printf("R\t%s\t%lu\tOK\n", name, v);
    fflush(stdout);
}

/* REPORT("name", expression): evaluates it with errno cleared, reports. */
#define REPORT(name, expr)                 \
    do {                                   \
        errno = 0;                         \
        long _r = (long)(expr);            \
        int _e = errno;                    \
        report((name), _r, _e);            \
    } while (0)

static __attribute__((unused)) void hexline(const char *tag, const char *path, const unsigned char *b, long n)
{
    printf("%s\t%s\t", tag, path);
    for (long i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
    fflush(stdout);
}

struct linux_dirent64_ {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Lists an open directory fd with raw getdents64, one DENT line per name. */
static __attribute__((unused)) long list_fd(const char *label, int fd)
{
    static char buf[65536];
    long total = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            return n < 0 ? n : total;
        for (long off = 0; off < n;) {
            struct linux_dirent64_ *d = (void *)(buf + off);
            printf("DENT\t%s\t%s\n", label, d->d_name);
            off += d->d_reclen;
            total++;
        }
        fflush(stdout);
    }
}

/* Reads (at most 64 KiB of) an open fd, one DATA line. */
static __attribute__((unused)) long dump_fd(const char *label, int fd)
{
    static unsigned char buf[65536];
    long got = 0;
    while (got < (long)sizeof buf) {
        long n = syscall(SYS_read, fd, buf + got, sizeof buf - got);
        if (n <= 0)
            break;
        got += n;
    }
    hexline("DATA", label, buf, got);
    return got;
}

/* Tries everything a reader would: stat, readlink, open, read or list.
 * Reports "stat:<path>", "readlink:<path>", "open:<path>". */
static __attribute__((unused)) void probe_at(int dirfd, const char *path)
{
    char name[4200];
    struct stat st;
    char link[4096];

    snprintf(name, sizeof name, "stat:%s", path);
    REPORT(name, syscall(SYS_newfstatat, dirfd, path, &st, 0));

    snprintf(name, sizeof name, "readlink:%s", path);
    errno = 0;
    long n = syscall(SYS_readlinkat, dirfd, path, link, sizeof link - 1);
    int e = errno;
    report(name, n, e);
    if (n > 0) {
        link[n] = 0;
        hexline("LINK", path, (unsigned char *)link, n);
    }

    snprintf(name, sizeof name, "open:%s", path);
    errno = 0;
    long fd = syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    e = errno;
    report(name, fd, e);
    if (fd < 0)
        return;
    if (fstat((int)fd, &st) == 0 && S_ISDIR(st.st_mode))
        list_fd(path, (int)fd);
    else
        dump_fd(path, (int)fd);
    close((int)fd);
}

static __attribute__((unused)) void probe(const char *path) { probe_at(AT_FDCWD, path); }

#endif
