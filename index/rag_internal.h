/* rag_internal.h -- what rag_build.c lends rag_update.c and rejection.c: inserting embed's
 * chunk records into a chunk store, its vectors, the checksum, the manifest
 * pieces they write. Internal to index/. */
#ifndef CM_RAG_INTERNAL_H
#define CM_RAG_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include <faiss/c_api/Index_c.h>

#include "../pipeline/util.h"
#include "bm25_index.h"

/* The chunk records of OUT/chunks/ into db's table chunks (in the caller's
 * transaction), every id plus id_base; *n gets how many. */
int cm_rag_insert_chunks(sqlite3 *db, const char *out, int64_t id_base, uint64_t *n, cm_err *err);
/* Every vector of OUT/embeddings/ and its chunk id (the caller frees both). */
int cm_rag_load_vectors(const char *out, long dim, float **vec, int64_t **ids, size_t *n, cm_err *err);
int cm_rag_write_faiss(FaissIndex *idx, const char *path, cm_err *err);
/* FAISS search parameters ("efSearch=64", "nprobe=16") set on idx. */
int cm_rag_set_params(FaissIndex *idx, const char *params, cm_err *err);
int cm_rag_sha256_file(const char *path, char hex[65], cm_err *err);
int cm_rag_bm25_info(const char *path, cm_bm25_info *info, cm_err *err);
/* Rewrites RAG_DIR/manifest.json (a rename) with the members named in keys
 * replaced by, or when new added as, the matching values (raw JSON); every
 * other member byte for byte, in its order. */
int cm_rag_manifest_set(const char *dir, const char *const *keys, const char *const *values, size_t n, cm_err *err);
/* The manifest's "bm25" object. */
void cm_rag_bm25_manifest(const cm_bm25_info *bi, int fts5, cm_buf *b);

#endif
