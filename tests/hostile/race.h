/* race.h: the racing harness shared by the race_* programs (not an attack
 * itself). A flipper thread rewrites a buffer, as fast as it can, with one
 * variant after another (paths, socket addresses, iovecs, open_how...),
 * while the main thread makes the call under attack in a loop for a given
 * time. A library OS that reads an argument twice (once to check it, once
 * to act on it), or hands a checked call back to the kernel, which reads
 * the caller's memory again, would act on a variant it never checked.
 */
#ifndef RACE_H
#define RACE_H

#include "hostile.h"
#include <pthread.h>
#include <time.h>

static __attribute__((unused)) double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

#define MAX_VARIANTS 16

struct flipper {
    volatile unsigned char *buf;               /* what is rewritten */
    const void *variant[MAX_VARIANTS];         /* its successive contents */
    size_t len[MAX_VARIANTS];
    int n;
    volatile int stop;
    volatile unsigned long flips;
    int words; /* store whole aligned 8-byte words: a pointer is never torn */
    pthread_t th;
};

static void *flipper_main(void *p)
{
    struct flipper *f = p;
    while (!f->stop) {
        for (int i = 0; i < f->n; i++) {
            const unsigned char *src = f->variant[i];
            if (f->words) {
                for (size_t j = 0; j + 8 <= f->len[i]; j += 8)
                    ((volatile unsigned long *)f->buf)[j / 8] = ((const unsigned long *)src)[j / 8];
                continue;
            }
            for (size_t j = 0; j < f->len[i]; j++)
                f->buf[j] = src[j];
        }
        f->flips++;
    }
    return NULL;
}

static __attribute__((unused)) void flipper_add(struct flipper *f, const void *v, size_t len)
{
    if (f->n < MAX_VARIANTS) {
        f->variant[f->n] = v;
        f->len[f->n] = len;
        f->n++;
    }
}

/* Adds a NUL-terminated string variant (its NUL included). */
static __attribute__((unused)) void flipper_add_str(struct flipper *f, const char *s)
{
    flipper_add(f, s, strlen(s) + 1);
}

static __attribute__((unused)) void flipper_start(struct flipper *f, void *buf)
{
    f->buf = buf;
    f->stop = 0;
    f->flips = 0;
    pthread_create(&f->th, NULL, flipper_main, f);
}

static __attribute__((unused)) void flipper_stop(struct flipper *f)
{
    f->stop = 1;
    pthread_join(f->th, NULL);
}

#endif
