/* ChaCha20-Poly1305 over a batch of packets, spread over the router's cores.
 *
 * The runtime reads up to a batch of packets per wake-up into one ring and
 * seals (or opens) them all before one sendmmsg. Each packet is independent
 * work, so a batch splits into contiguous runs of packets, one run per
 * thread; the caller runs the first run itself and waits for the rest.
 * Order inside the batch is untouched, so packets leave (and reach the TUN)
 * in the order they came, per peer as well as overall, as in the kernel.
 *
 * Threads are made on first use, so single-core routers never have any and
 * the daemon forks before there are threads. Workers block every signal:
 * QuickJS's main loop must be the one that sees SIGTERM/SIGHUP. Only
 * mutex/condition variables are used (no atomics): ARMv5 has no atomic
 * instructions, and one lock round per batch costs nothing against the
 * crypto of dozens of packets. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "chacha20poly1305.h"
#include "wgts_native.h"

/* Below this many bytes a batch is not worth waking another core for. */
#define PARALLEL_MIN_BYTES 4096
#define WORKER_STACK_BYTES (64 * 1024)

struct batch_work {
    int open;
    uint8_t *buf;
    int32_t *jobs;
    const uint8_t *keys;
    int first, end;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    int wanted;             /* threads including the caller */
    int started;            /* workers running */
    pid_t owner;            /* the process that started them (a fork child has none) */
    unsigned generation;    /* bumped per batch handed out */
    int pending;            /* workers still busy with this generation */
    struct batch_work work[WGTS_MAX_CRYPTO_THREADS];
    unsigned born[WGTS_MAX_CRYPTO_THREADS]; /* generation when worker i started */
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .wanted = 1,
};

static void run_jobs(const struct batch_work *w)
{
    int i;

    for (i = w->first; i < w->end; i++) {
        int32_t *job = w->jobs + (size_t)i * WGTS_AEAD_JOB_STRIDE;
        uint8_t *data = w->buf + job[0];
        size_t len = (size_t)job[1];
        uint64_t counter = (uint64_t)(uint32_t)job[3] << 32 | (uint32_t)job[2];
        const uint8_t *key = w->keys + (size_t)i * WGTS_AEAD_KEY_LEN;

        if (!w->open) {
            wgts_aead_seal(data, len, NULL, 0, counter, key);
            job[4] = (int32_t)(len + WGTS_AEAD_TAG_LEN);
        } else {
            job[4] = wgts_aead_open(data, len - WGTS_AEAD_TAG_LEN, NULL, 0, counter, key) == 0
                ? (int32_t)(len - WGTS_AEAD_TAG_LEN) : -1;
        }
    }
}

static void *worker(void *arg)
{
    int index = (int)(intptr_t)arg;
    unsigned seen = pool.born[index]; /* batches before its birth are not its own */

    for (;;) {
        struct batch_work w;

        pthread_mutex_lock(&pool.lock);
        while (pool.generation == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        seen = pool.generation;
        w = pool.work[index];
        pthread_mutex_unlock(&pool.lock);

        run_jobs(&w);

        pthread_mutex_lock(&pool.lock);
        if (--pool.pending == 0)
            pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
    }
    return NULL;
}

/* Starts workers 1..wanted-1 that do not exist yet; returns how many run. */
static int start_workers(void)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pid_t self = getpid();

    if (pool.owner != self) {
        pool.started = 0; /* after fork the parent's workers are not ours */
        pool.owner = self;
    }
    if (pool.started >= pool.wanted - 1)
        return pool.started;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the new thread */
    while (pool.started < pool.wanted - 1) {
        pthread_t thread;
        pool.born[pool.started + 1] = pool.generation;
        if (pthread_create(&thread, &attr, worker, (void *)(intptr_t)(pool.started + 1)) != 0)
            break;
        pool.started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return pool.started;
}

int wgts_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

int wgts_crypto_threads(int wanted)
{
    if (wanted > 0)
        pool.wanted = wanted > WGTS_MAX_CRYPTO_THREADS ? WGTS_MAX_CRYPTO_THREADS : wanted;
    return pool.wanted;
}

int wgts_aead_batch(int open, uint8_t *buf, size_t buf_len, int32_t *jobs, const uint8_t *keys, int count)
{
    struct batch_work all = { open, buf, jobs, keys, 0, count };
    size_t total = 0, share, acc;
    int i, threads, t;

    if (count < 0)
        return -EINVAL;
    /* Every job is checked before any is run: a bad one changes nothing. */
    for (i = 0; i < count; i++) {
        const int32_t *job = jobs + (size_t)i * WGTS_AEAD_JOB_STRIDE;
        size_t room = (size_t)(open ? 0 : WGTS_AEAD_TAG_LEN);
        if (job[0] < 0 || job[1] < 0 || (open && job[1] < WGTS_AEAD_TAG_LEN) ||
            (uint64_t)job[0] + (uint64_t)job[1] + room > buf_len)
            return -EINVAL;
        total += (size_t)job[1];
    }
    threads = pool.wanted;
    if (threads > count)
        threads = count;
    if (threads > 1 && total >= PARALLEL_MIN_BYTES) {
        int available = start_workers() + 1;
        if (available < threads)
            threads = available;
    } else {
        threads = 1;
    }
    if (threads == 1) {
        run_jobs(&all);
        return count;
    }

    /* Contiguous runs of about equal bytes; thread 0 (this one) takes the first. */
    share = total / (size_t)threads;
    pthread_mutex_lock(&pool.lock);
    for (t = 0, i = 0; t < threads; t++) {
        pool.work[t] = all;
        pool.work[t].first = i;
        for (acc = 0; i < count && (t == threads - 1 || acc < share); i++)
            acc += (size_t)jobs[(size_t)i * WGTS_AEAD_JOB_STRIDE + 1];
        pool.work[t].end = i;
    }
    /* Workers beyond this batch's thread count get an empty run. */
    for (; t <= pool.started; t++) {
        pool.work[t] = all;
        pool.work[t].first = pool.work[t].end = count;
    }
    pool.pending = pool.started;
    pool.generation++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    run_jobs(&pool.work[0]);

    pthread_mutex_lock(&pool.lock);
    while (pool.pending > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    return count;
}
