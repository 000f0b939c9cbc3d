/* test_sort.c -- the ground floor's sorting and lookup of 64-bit values
 * (radix sort, sort-unique, branch-free binary search, one key or many) against qsort and a
 * linear scan, on sizes around the insertion-sort cut and values whose
 * bytes are partly all equal (the skipped passes). */
#include "check.h"
#include "util.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 1000, 100000};
    uint64_t x = 12345;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (int shape = 0; shape < 3; shape++) {
            size_t n = sizes[s];
            uint64_t *v = malloc((n + 1) * sizeof *v), *ref = malloc((n + 1) * sizeof *ref),
                     *tmp = malloc((n + 1) * sizeof *tmp);
            for (size_t i = 0; i < n; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                v[i] = shape == 0 ? x : shape == 1 ? (x >> 48) << 16 : x % 7; /* full, sparse bytes, repeats */
            }
            memcpy(ref, v, n * sizeof *v);
            qsort(ref, n, sizeof *ref, cmp_u64);
            cm_sort_u64(v, n, tmp);
            CHECK(n == 0 || memcmp(v, ref, n * sizeof *v) == 0);
            /* every value found where it is; absent values not found */
            int found_all = 1, none_wrong = 1;
            for (size_t i = 0; i < n; i++) {
                long at = cm_find_u64(v, n, v[i]);
                found_all &= at >= 0 && v[at] == v[i];
                uint64_t absent = v[i] + 1;
                int present = 0;
                for (size_t j = i + 1; j < n && v[j] <= absent && !present; j++) present = v[j] == absent;
                if (!present) none_wrong &= cm_find_u64(v, n, absent) == -1;
                if (i > 1000) break; /* the scan above is quadratic at worst */
            }
            CHECK(found_all);
            /* many at once: the same answers as one by one, present or not */
            size_t m = n < 100 ? n : 100;
            uint64_t q[200];
            long many[200];
            for (size_t i = 0; i < m; i++) { q[2 * i] = v[(i * 7919) % n]; q[2 * i + 1] = v[(i * 7919) % n] ^ 1; }
            cm_find_u64_many(v, n, q, 2 * m, many);
            int same = 1;
            for (size_t i = 0; i < 2 * m; i++) {
                long one = cm_find_u64(v, n, q[i]);
                same &= one == many[i] || (one >= 0 && many[i] >= 0 && v[one] == v[many[i]]);
            }
            CHECK(same);
            CHECK(none_wrong);
            if (n) CHECK(v[0] == 0 || cm_find_u64(v, n, v[0] - 1) == -1);
            size_t u = cm_sort_unique_u64(ref, n), w = 0;
            for (size_t i = 0; i < n; i++)
                if (!w || v[w - 1] != v[i]) v[w++] = v[i];
            CHECK(u == w && (u == 0 || memcmp(ref, v, u * sizeof *v) == 0));
            free(v);
            free(ref);
            free(tmp);
        }
    }
    CHECK(cm_find_u64(NULL, 0, 5) == -1);
    CHECK_DONE();
}
