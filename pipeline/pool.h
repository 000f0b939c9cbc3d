/* pool.h -- an ordered worker pool with a bounded number of slots.
 *
 * A producer fills slots and submits them; worker threads process them in
 * any order; the consumer takes them back in submission order. Memory is
 * bounded by the slots; output order does not depend on the thread count.
 *
 *   producer:  slot = cm_pool_acquire(p); ...fill...; cm_pool_submit(p, slot);
 *              ... cm_pool_finish(p);
 *   consumer:  while ((slot = cm_pool_next(p, timeout)) != NULL) { ...; cm_pool_release(p, slot); }
 */
#ifndef CM_POOL_H
#define CM_POOL_H

#include "util.h"

typedef struct cm_pool cm_pool;

/* process(worker_ctx[i], slot) runs on worker thread i. slots are the
 * caller's objects (n_slots of them); the pool never frees them. NULL with
 * err when a worker thread cannot be started. */
cm_pool *cm_pool_create(int n_workers, void **worker_ctx, void (*process)(void *ctx, void *slot), void **slots,
                        int n_slots, cm_err *err);
/* Waits for the workers to finish and frees the pool (not the slots). Call
 * after the consumer has drained everything. */
void cm_pool_free(cm_pool *p);

/* Producer side. acquire blocks until a slot is free; NULL once the pool is
 * cancelled. */
void *cm_pool_acquire(cm_pool *p);
void cm_pool_submit(cm_pool *p, void *slot);
/* Gives back an acquired slot unused. */
void cm_pool_unacquire(cm_pool *p, void *slot);
/* No more submissions. */
void cm_pool_finish(cm_pool *p);

/* Consumer side: the next slot in order, once processed. Returns NULL when
 * everything submitted has been returned and the producer finished. When
 * timeout_ms passes first, sets *timed_out and returns NULL. */
void *cm_pool_next(cm_pool *p, int timeout_ms, int *timed_out);
void cm_pool_release(cm_pool *p, void *slot);
/* Stops the producer (acquire returns NULL); slots in flight still arrive. */
void cm_pool_cancel(cm_pool *p);
int cm_pool_cancelled(cm_pool *p);

#endif
