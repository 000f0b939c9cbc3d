/* chunker.h -- splits a document into chunks for embedding, along sentence
 * lines, for Chinese and English alike.
 *
 *   1. Sections: with markdown on, a Markdown ATX heading ("# Title" to
 *      "###### Title", outside ``` / ~~~ fences) starts a new section; the
 *      headings above it form the section's heading path. No chunk spans two
 *      sections and no overlap crosses one.
 *   2. Sentences: a sentence ends after 。！？；… (and ｡ ! ? ; after a CJK
 *      character), after . ! ? followed by a space or the end, and at every
 *      line break; closing quotes and brackets stay with their sentence.
 *   3. Packing: sentences are added to a chunk while its length stays within
 *      max_units; a sentence longer than that is cut at word boundaries (or
 *      between CJK characters, or, for one huge word, between characters) so
 *      nothing is dropped. The next chunk starts with up to `overlap` units
 *      of the previous chunk's end (whole words or CJK characters).
 * Length is measured by the caller's function: characters for the hash
 * model, WordPiece tokens for a BERT model. Chunks are spans of the
 * document (trimmed of surrounding white space), so their text is the
 * document's own bytes and their offsets point into it. */
#ifndef CM_CHUNKER_H
#define CM_CHUNKER_H

#include <stddef.h>

/* The length of text in the caller's unit. */
typedef size_t (*cm_length_fn)(void *user, const char *text, size_t len);

typedef struct cm_chunker_opts {
    size_t max_units;   /* a chunk's length limit (> 0) */
    size_t overlap;     /* units repeated from the previous chunk (< max_units) */
    int markdown;       /* headings start sections */
} cm_chunker_opts;

#define CM_CHUNK_MAX_DEPTH 6

typedef struct cm_span {
    size_t begin, end; /* bytes of the document */
} cm_span;

typedef struct cm_chunk {
    cm_span bytes;
    size_t char_begin, char_end;           /* the same span in code points */
    size_t units;                          /* its length */
    int depth;                             /* headings in its path */
    cm_span heading[CM_CHUNK_MAX_DEPTH];   /* each heading's title */
} cm_chunk;

typedef struct cm_chunker cm_chunker;

cm_chunker *cm_chunker_create(const cm_chunker_opts *o, cm_length_fn length, void *user);
void cm_chunker_free(cm_chunker *c);

/* Splits text (UTF-8, len bytes) and points *chunks at the result, valid
 * until the next call. Returns the number of chunks (0 for text that is
 * empty or all white space). */
size_t cm_chunker_split(cm_chunker *c, const char *text, size_t len, const cm_chunk **chunks);

#endif
