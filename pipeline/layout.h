/* layout.h -- the output directory's layout, in one place: where a stage's
 * completion markers, split claim, stats, parts and manifests are under OUT.
 * Every path into OUT that more than one module builds is built here.
 *
 *   OUT/_done/MARKER/TTTTT          a finished task (its stats, written last)
 *   OUT/_done/MARKER/_run.json      the step's split and config fingerprint
 *   OUT/_done/clean/_inputs.tsv     the input listing every stage numbers documents by
 *   OUT/stats/NAME-TTTTT.json       a task's counts
 *   OUT/DIR/part-TTTTT-SSSS.EXT     a task's output parts (pipeline/writer.h)
 *   OUT/embeddings/manifest.json, OUT/rag/manifest.json */
#ifndef CM_LAYOUT_H
#define CM_LAYOUT_H

#define CM_PATH_MAX 4400

/* A path, returned by value so that a call reads as an expression:
 * cm_path_exists(cm_marker_path(out, "clean", 0).s). */
typedef struct cm_path {
    char s[CM_PATH_MAX];
} cm_path;

/* OUT/_done/MARKER */
cm_path cm_done_dir(const char *out, const char *marker);
/* OUT/_done/MARKER/TTTTT */
cm_path cm_marker_path(const char *out, const char *marker, int task);
/* OUT/_done/MARKER/_run.json */
cm_path cm_claim_path(const char *out, const char *marker);
/* OUT/_done/clean/_inputs.tsv */
cm_path cm_inputs_path(const char *out);
/* OUT/stats/NAME-TTTTT.json */
cm_path cm_stats_path(const char *out, const char *name, int task);
/* OUT/SUB (SUB may hold slashes: "rejected/clean") */
cm_path cm_out_dir(const char *out, const char *sub);
/* OUT/SUB/manifest.json (SUB: embeddings, rag) */
cm_path cm_manifest_path(const char *out, const char *sub);
/* "part-TTTTT": the prefix of task T's parts (pipeline/writer.h adds -SSSS.EXT) */
typedef struct cm_part_prefix {
    char s[32];
} cm_part_prefix;
cm_part_prefix cm_part_prefix_of(int task);

#endif
