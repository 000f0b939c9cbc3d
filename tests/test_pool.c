/* test_pool.c -- the ordered pool returns slots in submission order whatever
 * the number of workers, and bounds the slots in flight. */
#include "check.h"
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct item {
    int value;
    int result;
} item;

static void work(void *ctx, void *slot)
{
    (void)ctx;
    item *it = slot;
    /* uneven work so that workers finish out of order */
    if (it->value % 3 == 0) usleep(200);
    it->result = it->value * 2;
}

typedef struct producer {
    cm_pool *pool;
    int n;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    for (int i = 0; i < p->n; i++) {
        item *it = cm_pool_acquire(p->pool);
        it->value = i;
        cm_pool_submit(p->pool, it);
    }
    cm_pool_finish(p->pool);
    return NULL;
}

static int run(int workers, int slots_n, int n)
{
    item *items = calloc((size_t)slots_n, sizeof *items);
    void **slots = calloc((size_t)slots_n, sizeof *slots);
    void **ctx = calloc((size_t)workers, sizeof *ctx);
    for (int i = 0; i < slots_n; i++) slots[i] = &items[i];
    cm_err err;
    cm_pool *pool = cm_pool_create(workers, ctx, work, slots, slots_n, &err);
    CHECK(pool != NULL);
    producer pr = {pool, n};
    pthread_t th;
    pthread_create(&th, NULL, produce, &pr);
    int expect = 0, ok = 1, timed_out;
    for (;;) {
        item *it = cm_pool_next(pool, 1000, &timed_out);
        if (!it && !timed_out) break;
        if (!it) continue;
        if (it->value != expect || it->result != expect * 2) ok = 0;
        expect++;
        cm_pool_release(pool, it);
    }
    pthread_join(th, NULL);
    cm_pool_free(pool);
    free(items);
    free(slots);
    free(ctx);
    return ok && expect == n;
}

int main(void)
{
    CHECK(run(1, 2, 500));
    CHECK(run(2, 3, 500));
    CHECK(run(4, 10, 2000));
    CHECK(run(3, 1, 100)); /* a single slot still makes progress */
    CHECK_DONE();
}
