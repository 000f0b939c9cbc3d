/* test_sigfile.c -- band signature files: sorted round trip across block
 * boundaries (records in any order, and in document order: the radix path), and a clear error naming the file for other parameters, a
 * foreign file, truncation and corruption. */
#include "check.h"
#include "sigfile.h"

#include <stdlib.h>
#include <unistd.h>

static int read_all(const char *path, const cm_minhash_params *p, int band, cm_sigrec *out, size_t cap, size_t *n,
                    cm_err *err)
{
    cm_sigreader *r = cm_sigreader_open(path, p, band, err);
    if (!r) return -1;
    *n = 0;
    int rc;
    cm_sigrec rec;
    while ((rc = cm_sigreader_next(r, &rec, err)) == 1)
        if (*n < cap) out[(*n)++] = rec;
    cm_sigreader_close(r);
    return rc;
}

static void corrupt(const char *path, long offset, int truncate_to)
{
    FILE *f = fopen(path, "r+b");
    if (truncate_to >= 0) {
        if (ftruncate(fileno(f), truncate_to) != 0) perror("ftruncate");
    } else {
        fseek(f, offset, SEEK_SET);
        int c = fgetc(f);
        fseek(f, offset, SEEK_SET);
        fputc(c ^ 0x55, f);
    }
    fclose(f);
}

static int cmp_hash_doc(const void *a, const void *b)
{
    const cm_sigrec *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

int main(void)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/cm-sigfile-%d.bin", (int)getpid());
    cm_minhash_params p;
    cm_minhash_params_default(&p);
    cm_err err;

    /* 100,000 records (1.6 MB: more than one read block), written unsorted */
    size_t n = 100000;
    cm_sigrec *recs = malloc(n * sizeof *recs), *back = malloc(n * sizeof *back);
    uint64_t x = 7;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        recs[i].hash = x >> 44; /* 20 bits: many equal hashes */
        recs[i].doc = n - i;
    }
    CHECK(cm_sigfile_write(path, &p, 3, recs, n, &err) == 0);
    size_t got = 0;
    CHECK(read_all(path, &p, 3, back, n, &got, &err) == 0);
    CHECK(got == n);
    int sorted = 1;
    for (size_t i = 1; i < got; i++)
        if (back[i - 1].hash > back[i].hash || (back[i - 1].hash == back[i].hash && back[i - 1].doc > back[i].doc))
            sorted = 0;
    CHECK(sorted);
    CHECK(memcmp(back, recs, n * sizeof *recs) == 0); /* write sorted recs in place */

    /* in document order (as the signatures step writes them): the radix
     * path, which must give the same order as sorting by (hash, doc) */
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        recs[i].hash = (x >> 40) << (i % 2 ? 0 : 24); /* many equal hashes, bytes of both kinds */
        recs[i].doc = i / 3;                          /* repeated documents too */
    }
    memcpy(back, recs, n * sizeof *recs);
    qsort(back, n, sizeof *back, cmp_hash_doc);
    CHECK(cm_sigfile_write(path, &p, 3, recs, n, &err) == 0);
    CHECK(memcmp(back, recs, n * sizeof *recs) == 0);
    CHECK(read_all(path, &p, 3, recs, n, &got, &err) == 0 && got == n);
    CHECK(memcmp(back, recs, n * sizeof *recs) == 0);

    /* other parameters, another band: refused, naming the file */
    cm_minhash_params q = p;
    q.rows = 9;
    CHECK(cm_sigreader_open(path, &q, 3, &err) == NULL);
    CHECK_CONTAINS(err.msg, path);
    CHECK_CONTAINS(err.msg, "other MinHash parameters");
    CHECK(cm_sigreader_open(path, &p, 4, &err) == NULL);
    q = p;
    q.seed = 99;
    CHECK(cm_sigreader_open(path, &q, 3, &err) == NULL);

    /* corruption in the records: the checksum catches it at the end */
    corrupt(path, 64 + 16 * 5000 + 3, -1);
    CHECK(read_all(path, &p, 3, back, n, &got, &err) == -1);
    CHECK_CONTAINS(err.msg, "checksum does not match");
    /* truncation: in the records, in the header */
    CHECK(cm_sigfile_write(path, &p, 3, recs, n, &err) == 0);
    corrupt(path, 0, 64 + 16 * 70000 + 5);
    CHECK(read_all(path, &p, 3, back, n, &got, &err) == -1);
    CHECK_CONTAINS(err.msg, "truncated after 70000 of 100000 records");
    corrupt(path, 0, 30);
    CHECK(cm_sigreader_open(path, &p, 3, &err) == NULL);
    CHECK_CONTAINS(err.msg, "truncated");
    /* a file that is not ours */
    FILE *f = fopen(path, "wb");
    fputs("{\"not\": \"a signature file\", \"padding\": \"...........................................\"}\n", f);
    fclose(f);
    CHECK(cm_sigreader_open(path, &p, 3, &err) == NULL);
    CHECK_CONTAINS(err.msg, "not a corpusmill signature file");
    /* empty record set */
    CHECK(cm_sigfile_write(path, &p, 0, recs, 0, &err) == 0);
    CHECK(read_all(path, &p, 0, back, n, &got, &err) == 0 && got == 0);

    unlink(path);
    free(recs);
    free(back);
    CHECK_DONE();
}
