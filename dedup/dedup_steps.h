/* dedup_steps.h -- what the four dedup steps share (dedup/step_*.c): the
 * document keys and their flags, the files under OUT/minhash/, and the step
 * functions the stage's descriptor (dedup_stage.c) lists. Internal to
 * dedup/. */
#ifndef CM_DEDUP_STEPS_H
#define CM_DEDUP_STEPS_H

#include <stdint.h>
#include <stdio.h>

#include "../pipeline/stage.h"
#include "../pipeline/stage_reader.h"
#include "dedup_stage.h"
#include "sigfile.h"
#include "simplify.h"

#define KEY_FILE(k) CM_DOC_FILE(k)
#define KEY_ORDINAL(k) CM_DOC_ORDINAL(k)
/* documents of earlier runs (dedup.previous): flag, run index, their own key */
#define PREV_FLAG (1ULL << 62)
#define PREV_KEY(run, key) (PREV_FLAG | ((uint64_t)(run) << 56) | (key))
#define PREV_RUN(k) (((k) >> 56) & 63)
#define PREV_ORIG(k) ((k) & ((1ULL << 56) - 1))
/* the union-find orders documents so that earlier runs' come first: they are
 * kept, never touched */
#define ORDER(k) ((k) ^ PREV_FLAG)

/* A 128-bit hash as the 64 bits the band files key by. */
static inline uint64_t cm_dedup_hash64(cm_hash128 h) { return h.hi ^ (h.lo * 0x9E3779B97F4A7C15ULL); }

/* How a removed document was found: the same text, the same simplified
 * text, a verified near duplicate, or a match only with digits folded. */
typedef enum cm_dup_kind { CM_DUP_EXACT = 0, CM_DUP_SIMPLIFIED = 1, CM_DUP_MINHASH = 2, CM_DUP_FOLDED = 3 } cm_dup_kind;

/* A removal's verification, packed in 64 bits (the sim files): the kind,
 * whether the similarity is a signature estimate, and the Jaccard of the
 * pair with digits as written and folded, in units of 1e-4 (0xFFFF: not
 * measured). */
#define CM_SIM_UNKNOWN 0xFFFFu
static inline uint64_t cm_dedup_sim_pack(int kind, int estimated, double j, double jf)
{
    uint64_t a = j >= 0 ? (uint64_t)(j * 10000 + 0.5) : CM_SIM_UNKNOWN, b = jf >= 0 ? (uint64_t)(jf * 10000 + 0.5) : CM_SIM_UNKNOWN;
    return ((uint64_t)kind << 62) | ((uint64_t)(estimated != 0) << 61) | (a << 16) | b;
}
static inline int cm_dedup_sim_kind(uint64_t v) { return (int)(v >> 62); }
static inline int cm_dedup_sim_estimated(uint64_t v) { return (int)((v >> 61) & 1); }
/* -1 when not measured */
static inline double cm_dedup_sim_jaccard(uint64_t v, int folded)
{
    unsigned x = (unsigned)((folded ? v : v >> 16) & 0xFFFF);
    return x == CM_SIM_UNKNOWN ? -1 : x / 10000.0;
}

/* A growable list of pairs of 64-bit values (candidate pairs, removals). */
typedef struct cm_dedup_pairs {
    cm_sigrec *p;
    size_t n, cap;
} cm_dedup_pairs;

void cm_dedup_add_pair(cm_dedup_pairs *ps, uint64_t a, uint64_t b);

/* OUT/minhash/bands/BBB, or .../exact for band == bands. */
void cm_dedup_band_dir(const char *out, int band, int bands, char *dir, size_t cap);

/* Closes a file written under tmp and renames it to path when all went well
 * (rc 0), else removes it. Returns rc, or -1 with err when the rename fails. */
int cm_dedup_finish_stream(FILE *f, const char *tmp, const char *path, int rc, cm_err *err);

/* The next record of an ids file held in b, from *off: an 8-byte key, a
 * 4-byte length and that many bytes of raw JSON id. Returns 1 with the
 * record, 0 at the end, -1 when the rest is too short to be a record. */
int cm_dedup_next_id(const cm_buf *b, size_t *off, uint64_t *key, const char **id, uint32_t *len);

/* The steps (cm_stage_step.run). */
int cm_dedup_signatures(const cm_stage_task *t, cm_task_stats *st, cm_err *err);
int cm_dedup_buckets(const cm_stage_task *t, cm_task_stats *st, cm_err *err);
int cm_dedup_clusters(const cm_stage_task *t, cm_task_stats *st, cm_err *err);
int cm_dedup_filter(const cm_stage_task *t, cm_task_stats *st, cm_err *err);

#endif
