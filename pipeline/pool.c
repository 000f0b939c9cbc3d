/* pool.c -- the ordered worker pool (see pool.h). One mutex guards all the
 * state; slots carry a sequence number so the consumer can wait for the
 * next one in order. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

enum { FREE, FILLING, QUEUED, WORKING, DONE };

typedef struct slot_info {
    void *obj;
    int state;
    uint64_t seq;
} slot_info;

typedef struct worker {
    cm_pool *pool;
    void *ctx;
    pthread_t thread;
} worker;

struct cm_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv_free;   /* a slot became free / cancelled */
    pthread_cond_t cv_queued; /* work queued / finishing */
    pthread_cond_t cv_done;   /* a slot was processed */
    slot_info *slots;
    int n_slots;
    int *queue;               /* FIFO of queued slot indexes */
    int q_head, q_len;
    uint64_t next_submit, next_return;
    int finished, cancelled, stopping;
    void (*process)(void *ctx, void *slot);
    worker *workers;
    int n_workers;
};

static int index_of(cm_pool *p, void *obj)
{
    for (int i = 0; i < p->n_slots; i++)
        if (p->slots[i].obj == obj) return i;
    abort(); /* a slot the pool does not own: a programming error */
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    cm_pool *p = w->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->q_len == 0 && !p->stopping) pthread_cond_wait(&p->cv_queued, &p->mu);
        if (p->q_len == 0) break;
        int i = p->queue[p->q_head];
        p->q_head = (p->q_head + 1) % p->n_slots;
        p->q_len--;
        p->slots[i].state = WORKING;
        pthread_mutex_unlock(&p->mu);
        p->process(w->ctx, p->slots[i].obj);
        pthread_mutex_lock(&p->mu);
        p->slots[i].state = DONE;
        pthread_cond_broadcast(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

cm_pool *cm_pool_create(int n_workers, void **worker_ctx, void (*process)(void *, void *), void **slots, int n_slots,
                        cm_err *err)
{
    cm_pool *p = cm_calloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    pthread_cond_init(&p->cv_queued, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv_done, &ca);
    pthread_condattr_destroy(&ca);
    p->n_slots = n_slots;
    p->slots = cm_calloc((size_t)n_slots, sizeof *p->slots);
    for (int i = 0; i < n_slots; i++) p->slots[i].obj = slots[i];
    p->queue = cm_calloc((size_t)n_slots, sizeof *p->queue);
    p->process = process;
    p->n_workers = n_workers;
    p->workers = cm_calloc((size_t)n_workers, sizeof *p->workers);
    for (int i = 0; i < n_workers; i++) {
        p->workers[i].pool = p;
        p->workers[i].ctx = worker_ctx[i];
        int e = pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]);
        if (e != 0) { /* the ones started stop with the pool */
            p->n_workers = i;
            cm_pool_free(p);
            cm_errorf(err, "cannot start worker thread %d of %d: %s", i + 1, n_workers, strerror(e));
            return NULL;
        }
    }
    return p;
}

void cm_pool_free(cm_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv_queued);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->workers[i].thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_free);
    pthread_cond_destroy(&p->cv_queued);
    pthread_cond_destroy(&p->cv_done);
    free(p->workers);
    free(p->queue);
    free(p->slots);
    free(p);
}

void *cm_pool_acquire(cm_pool *p)
{
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->cancelled) { pthread_mutex_unlock(&p->mu); return NULL; }
        for (int i = 0; i < p->n_slots; i++) {
            if (p->slots[i].state == FREE) {
                p->slots[i].state = FILLING;
                pthread_mutex_unlock(&p->mu);
                return p->slots[i].obj;
            }
        }
        pthread_cond_wait(&p->cv_free, &p->mu);
    }
}

void cm_pool_submit(cm_pool *p, void *obj)
{
    pthread_mutex_lock(&p->mu);
    int i = index_of(p, obj);
    p->slots[i].state = QUEUED;
    p->slots[i].seq = p->next_submit++;
    p->queue[(p->q_head + p->q_len) % p->n_slots] = i;
    p->q_len++;
    pthread_cond_signal(&p->cv_queued);
    pthread_mutex_unlock(&p->mu);
}

void cm_pool_unacquire(cm_pool *p, void *obj)
{
    pthread_mutex_lock(&p->mu);
    p->slots[index_of(p, obj)].state = FREE;
    pthread_cond_signal(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

void cm_pool_finish(cm_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->finished = 1;
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
}

void *cm_pool_next(cm_pool *p, int timeout_ms, int *timed_out)
{
    *timed_out = 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        for (int i = 0; i < p->n_slots; i++) {
            if (p->slots[i].state == DONE && p->slots[i].seq == p->next_return) {
                p->next_return++;
                pthread_mutex_unlock(&p->mu);
                return p->slots[i].obj;
            }
        }
        if (p->finished && p->next_return == p->next_submit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        if (pthread_cond_timedwait(&p->cv_done, &p->mu, &until) == ETIMEDOUT) {
            *timed_out = 1;
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
    }
}

void cm_pool_release(cm_pool *p, void *obj)
{
    pthread_mutex_lock(&p->mu);
    p->slots[index_of(p, obj)].state = FREE;
    pthread_cond_signal(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

void cm_pool_cancel(cm_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->cancelled = 1;
    pthread_cond_broadcast(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
}

int cm_pool_cancelled(cm_pool *p)
{
    pthread_mutex_lock(&p->mu);
    int c = p->cancelled;
    pthread_mutex_unlock(&p->mu);
    return c;
}
