/* sigfile.h -- the files MinHash-LSH stages hand each other: per band, the
 * (band hash, document) records of one task, sorted, with a header that
 * names every MinHash parameter and a checksum at the end. A stage refuses a
 * file whose parameters differ from its own, and a truncated or corrupt file,
 * with an error naming the file.
 *
 * Layout (little-endian):
 *   header, 64 bytes: magic "CMSIG" 0 0 1, u32 version (1), u32 record size
 *     (16), u32 ngram, u32 bands, u32 rows, u32 band, u64 seed, u64 count,
 *     u32 fold_digits, then zeros
 *   count records: u64 hash, u64 doc (sorted by hash, then doc)
 *   trailer: u64 XXH64 (seed 0) of the header and the records
 * Readers read in 1 MiB blocks (a k-way merge over many files must not issue
 * small reads) and check the checksum when they reach the end. */
#ifndef CM_SIGFILE_H
#define CM_SIGFILE_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"
#include "minhash.h"

typedef struct cm_sigrec {
    uint64_t hash;
    uint64_t doc;
} cm_sigrec;

/* Sorts recs and writes them to path (through path.tmp and a rename). */
int cm_sigfile_write(const char *path, const cm_minhash_params *p, int band, cm_sigrec *recs, size_t n, cm_err *err);

typedef struct cm_sigreader cm_sigreader;

/* Opens path and checks its header against p and band. NULL with err. */
cm_sigreader *cm_sigreader_open(const char *path, const cm_minhash_params *p, int band, cm_err *err);
/* The next record: 1; 0 at the end (the checksum was right); -1 with err
 * (truncated or corrupt). */
int cm_sigreader_next(cm_sigreader *r, cm_sigrec *out, cm_err *err);
uint64_t cm_sigreader_count(const cm_sigreader *r);
void cm_sigreader_close(cm_sigreader *r);

#endif
