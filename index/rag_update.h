/* rag_update.h -- changing a RAG export without rebuilding it: documents
 * added (their chunks and vectors, made by clean and embed with the
 * export's own recipe into a work folder) and deleted by id; a document
 * added again under its id replaces the old one.
 *
 * An update writes the next generation of the export's files beside the
 * current one (index.G.faiss, chunks.G.sqlite, bm25.G.idx; rag_format.h)
 * and then replaces manifest.json with one naming them (a rename): a reader
 * opening the export sees the old files or the new ones, never a mix, and
 * one that has them open keeps answering from them (the generation before
 * the current one stays on disk; older ones are removed). The chunk store
 * is a copy with the rows deleted and inserted; the BM25 index is rebuilt
 * from it (its statistics are the collection's: the same scores as an
 * export built in one go); the FAISS index removes and adds ids where its
 * kind can (Flat, IVF) and otherwise (HNSW) keeps the deleted ids as
 * tombstones that search skips, until `index compact` rebuilds the graph. */
#ifndef CM_RAG_UPDATE_H
#define CM_RAG_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "../pipeline/util.h"

typedef struct cm_rag_update_stats {
    long generation;          /* the export's generation after the change */
    uint64_t chunks_added, chunks_deleted, documents_deleted;
    uint64_t chunks;          /* in the export after it */
    uint64_t tombstones;      /* deleted ids still in the FAISS graph */
    size_t missing;           /* ids to delete that no chunk had */
    double seconds;
} cm_rag_update_stats;

/* Applies an update to the export rag_dir: the chunks and vectors embed
 * wrote into work_out (NULL: none; its model and dimension must be the
 * export's) are added, under ids past the export's, after the documents
 * they replace and the n_delete document ids are deleted. 0, or -1 with
 * err (usage: an export it cannot update, another model). */
int cm_rag_update(const char *rag_dir, const char *work_out, const char *const *delete_ids, size_t n_delete,
                  cm_rag_update_stats *st, cm_err *err);

/* Rebuilds the FAISS index without its tombstones (nothing to do when it
 * has none). 0, or -1 with err. */
int cm_rag_compact(const char *rag_dir, cm_rag_update_stats *st, cm_err *err);

#endif
