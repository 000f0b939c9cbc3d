/* signals.c -- computes the quality signals (see signals.h): one pass over
 * the text for characters, tokens (filters/tokens.c) and lines, then hash
 * counting (filters/hashtab.h) for the repetition signals. All scratch
 * memory is owned by the per-document state, which hangs on the document
 * as its cache and is reused, so steady-state computation allocates
 * nothing. */
#define _GNU_SOURCE
#include "signals.h"

#include <stdio.h>

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "hashtab.h"

/* ---- options ---- */

void cm_signal_opts_default(cm_signal_opts *o)
{
    o->word_units = CM_WORDS_FAST;
    o->short_line_chars = 30;     /* FineWeb's short line */
    o->short_line_chars_cjk = 10; /* calibrated on zh-web-chinesewebtext: a CJK character carries ~3 Latin ones */
    o->store = CM_STORE_AUTO;
}

int cm_signal_opts_read(const cm_conf *node, cm_signal_opts *o, cm_err *err)
{
    static const char *const known[] = {"word_units", "short_line_chars", "short_line_chars_cjk", "store", NULL};
    static const char *const units[] = {"fast", "icu", NULL};
    static const char *const store[] = {"auto", "always", "never", NULL};
    if (cm_conf_check_keys(node, "clean.signals", known, err)) return -1;
    long a = o->short_line_chars, b = o->short_line_chars_cjk;
    if (cm_conf_enum(node, "word_units", units, &o->word_units, err) ||
        cm_conf_int(node, "short_line_chars", 1, 100000, &a, err) ||
        cm_conf_int(node, "short_line_chars_cjk", 1, 100000, &b, err) || cm_conf_enum(node, "store", store, &o->store, err))
        return -1;
    o->short_line_chars = (int)a;
    o->short_line_chars_cjk = (int)b;
    return 0;
}

/* ---- the table of signals ---- */

#define SIG(name) {#name, offsetof(cm_signal_values, name)}
const cm_signal_def cm_signal_defs[] = {
    SIG(chars), SIG(words), SIG(tokens), SIG(lines), SIG(paragraphs), SIG(sentences), SIG(cjk), SIG(cjk_frac),
    SIG(mean_word_length), SIG(symbol_word_ratio), SIG(hash_word_ratio), SIG(ellipsis_word_ratio),
    SIG(bullet_lines_frac), SIG(ellipsis_lines_frac), SIG(alpha_words_frac), SIG(stop_words), SIG(stop_words_frac),
    SIG(dup_line_frac), SIG(dup_para_frac), SIG(dup_line_char_frac), SIG(dup_para_char_frac), SIG(top_2gram_frac),
    SIG(top_3gram_frac), SIG(top_4gram_frac), SIG(dup_5gram_frac), SIG(dup_6gram_frac), SIG(dup_7gram_frac),
    SIG(dup_8gram_frac), SIG(dup_9gram_frac), SIG(dup_10gram_frac), SIG(terminal_punct_lines_frac),
    SIG(short_lines_frac), SIG(unique_words_frac), SIG(unigram_entropy), SIG(digit_frac), SIG(upper_frac),
    SIG(whitespace_frac), SIG(url_frac), SIG(curly_brackets), SIG(lorem_ipsum), SIG(javascript_lines),
    SIG(policy_lines), SIG(newline_word_ratio), SIG(dup_line_char_frac_fw), {NULL, 0},
};

int cm_signal_lookup(const char *name)
{
    for (int i = 0; cm_signal_defs[i].name; i++)
        if (strcmp(cm_signal_defs[i].name, name) == 0) return i;
    return -1;
}

/* ---- stop words ----
 * English: the most frequent English function words (the top of the usual
 * frequency lists, e.g. the Oxford English Corpus's 100 most common words,
 * content words left out); it contains Gopher's eight.
 * Chinese: the most frequent function characters and words of modern written
 * Chinese (particles, pronouns, prepositions, conjunctions, copula), written
 * for this project; single characters so that they match character-level
 * tokens, words for ICU's dictionary tokens. */
static const char *const STOP_EN[] = {
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not", "on", "with", "he", "as",
    "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "her", "she", "or", "an", "will", "my",
    "all", "would", "there", "their", "what", "so", "if", "about", "which", "me", "is", "are", "was", "were",
    "been", "has", "had", "can", "its", "our", "your", "them", "than", "then", "these", "those", "when", NULL};
static const char *const STOP_ZH[] = {
    "的", "了", "是", "在", "和", "有", "我", "也", "不", "就", "都", "这", "他", "她", "它", "你", "们", "与",
    "及", "或", "被", "把", "从", "对", "而", "为", "以", "之", "其", "但", "并", "所", "于", "将", "让", "向",
    "着", "过", "地", "得", "吗", "呢", "吧", "啊", "那", "些", "个", "该", "此", "等", "我们", "他们", "你们",
    "这个", "那个", "一个", "没有", "因为", "所以", "但是", "如果", "可以", "已经", "这些", "那些", "自己", NULL};

/* ---- per-document state ---- */

typedef struct extra {
    char name[48];
    double value;
} extra;

struct cm_signals {
    int valid;      /* tier 1: characters, tokens, lines */
    int judged, judged_repetition; /* values in v were computed for this document (maybe for an earlier text) */
    int repetition; /* tier 2: duplicate lines, paragraphs, n-grams, word statistics */
    int used;
    cm_signal_values v;
    cm_tokenizer tz;       /* the tokens of the text */
    int tokens_of_previous; /* the text changed, and tz holds the previous text's tokens */
    cm_kept_line *kept;    /* where the current text's lines came from (cm_signals_text_from_lines) ... */
    size_t n_kept, cap_kept; /* ... n_kept 0: unknown */
    cm_token *spare_tok;   /* a second token array to build from the previous one */
    size_t cap_spare_tok;
    cm_line *line;
    size_t n_line, cap_line;
    cm_htab h, stop;
    uint8_t stop_char[8192]; /* the one-character CJK stop words, a bit per BMP code point */
    uint32_t *gram_at;     /* the n-grams that can still repeat: their first token ... */
    uint64_t *gram_poly;   /* ... their polynomial hash (before mixing) ... */
    uint32_t *gram_slot;   /* ... and their slot in the count table */
    uint8_t *gram_repeats; /* per token: the last length n whose n-gram starting there occurs twice or more */
    size_t cap_gram;
    cm_buf lower;          /* ASCII-lowercased text, for phrase search */
    uint8_t *uprops;       /* ICU's digit/upper/space answers per BMP code point, asked once (0: not yet) */
    extra *extras;
    size_t n_extras, cap_extras;
    const cm_signal_opts *opts; /* NULL: the defaults */
};

/* ---- the state's lifetime, driven by the document (cm_doc_cache_ops) ---- */

static void on_text_changed(void *cache)
{
    cm_signals *s = cache;
    s->tokens_of_previous = s->valid && (!s->opts || s->opts->word_units == CM_WORDS_FAST);
    s->n_kept = 0;
    s->valid = s->repetition = 0;
}

static void on_new_record(void *cache)
{
    cm_signals *s = cache;
    s->valid = s->repetition = 0;
    s->tokens_of_previous = 0;
    s->n_kept = 0;
    s->judged = s->judged_repetition = 0;
    s->used = 0;
    s->n_extras = 0;
}

static void on_free(void *cache)
{
    cm_signals *s = cache;
    cm_tokenizer_free(&s->tz);
    free(s->kept);
    free(s->spare_tok);
    free(s->line);
    cm_htab_free(&s->h);
    cm_htab_free(&s->stop);
    free(s->gram_at);
    free(s->gram_poly);
    free(s->gram_slot);
    free(s->gram_repeats);
    cm_buf_free(&s->lower);
    free(s->uprops);
    free(s->extras);
    free(s);
}

static const cm_doc_cache_ops CACHE_OPS = {on_text_changed, on_new_record, on_free};

/* The document's signals state, made on first use. */
static cm_signals *state(cm_doc *doc)
{
    if (!doc->cache) {
        cm_signals *s = cm_calloc(1, sizeof *s);
        /* the stop-word set, by hash */
        cm_htab_reset(&s->stop, 1024); /* sparse (6% full): a probe ends at its first slot */
        for (int i = 0; STOP_EN[i]; i++) cm_htab_add(&s->stop, cm_hash_bytes(STOP_EN[i], strlen(STOP_EN[i])));
        for (int i = 0; STOP_ZH[i]; i++) {
            size_t n = strlen(STOP_ZH[i]), k;
            cm_htab_add(&s->stop, cm_hash_bytes(STOP_ZH[i], n));
            uint32_t c = cm_utf8_decode_at((const unsigned char *)STOP_ZH[i], n, 0, &k);
            if (k == n && n == 3) s->stop_char[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
        doc->cache = s;
        doc->cache_ops = &CACHE_OPS;
    }
    return doc->cache;
}

/* The state when there is one, else NULL. */
static cm_signals *peek(const cm_doc *doc) { return doc->cache_ops == &CACHE_OPS ? doc->cache : NULL; }

void cm_signals_setup(cm_doc *doc, const cm_signal_opts *opts) { state(doc)->opts = opts; }

int cm_signals_used(const cm_doc *doc) { return peek(doc) && peek(doc)->used; }

int cm_signals_has_extras(const cm_doc *doc) { return peek(doc) && peek(doc)->n_extras; }

int cm_signals_store(const cm_doc *doc)
{
    const cm_signals *s = peek(doc);
    return s && s->opts ? s->opts->store : CM_STORE_AUTO;
}

void cm_signals_set_extra(cm_doc *doc, const char *name, double value)
{
    cm_signals *s = state(doc);
    for (size_t i = 0; i < s->n_extras; i++)
        if (strcmp(s->extras[i].name, name) == 0) { s->extras[i].value = value; return; }
    if (s->n_extras == s->cap_extras) {
        s->cap_extras = s->cap_extras ? s->cap_extras * 2 : 8;
        s->extras = cm_realloc(s->extras, s->cap_extras * sizeof *s->extras);
    }
    snprintf(s->extras[s->n_extras].name, sizeof s->extras[0].name, "%s", name);
    s->extras[s->n_extras].value = value;
    s->n_extras++;
}

double cm_signals_get_extra(cm_doc *doc, const char *name)
{
    cm_signals *s = state(doc);
    for (size_t i = 0; i < s->n_extras; i++)
        if (strcmp(s->extras[i].name, name) == 0) return s->extras[i].value;
    return -1;
}

void cm_signals_text_from_lines(cm_doc *doc, const cm_kept_line *lines, size_t n)
{
    cm_signals *s = peek(doc);
    if (!s || !s->tokens_of_previous || !n) return;
    if (n > s->cap_kept) {
        s->cap_kept = n;
        s->kept = cm_realloc(s->kept, n * sizeof *s->kept);
    }
    memcpy(s->kept, lines, n * sizeof *lines);
    s->n_kept = n;
}

/* ---- the computation ---- */

/* The tokens of a text made of kept lines (S->kept): a kept line's tokens
 * copied from the previous text's (in S->tz), moved to the line's new
 * place; a rewritten line tokenized. n_old: the previous text's tokens.
 * Returns 0 when the lines do not describe the text, which is then
 * tokenized whole. */
static int tokens_from_kept_lines(cm_signals *S, size_t n_old, const char *s, size_t len)
{
    for (size_t k = 0; k < S->n_kept; k++)
        if ((size_t)S->kept[k].at + S->kept[k].len > len || (k && S->kept[k].at < S->kept[k - 1].at + S->kept[k - 1].len))
            return 0;
    const cm_token *old = S->tz.tok;
    size_t t = 0;
    cm_token *spare = S->spare_tok;
    size_t cap_spare = S->cap_spare_tok;
    S->spare_tok = S->tz.tok;
    S->cap_spare_tok = S->tz.cap;
    S->tz.tok = spare;
    S->tz.cap = cap_spare;
    S->tz.n = 0;
    for (size_t k = 0; k < S->n_kept; k++) {
        const cm_kept_line *L = &S->kept[k];
        if (L->was_at == CM_LINE_REWRITTEN) {
            cm_tokenize_span(&S->tz, s, L->at, (size_t)L->at + L->len);
            continue;
        }
        if (t && old[t - 1].start >= L->was_at) t = 0; /* not in order: look from the start */
        while (t < n_old && old[t].start < L->was_at) t++;
        size_t e = t;
        while (e < n_old && old[e].start < (size_t)L->was_at + L->len) e++;
        cm_tokenizer_reserve(&S->tz, e - t);
        for (; t < e; t++) {
            cm_token x = old[t];
            x.start = x.start - L->was_at + L->at;
            S->tz.tok[S->tz.n++] = x;
        }
    }
    return 1;
}

/* The hash of a window of n tokens: the polynomial sum of its tokens' hashes
 * (arithmetic mod 2^64 with an odd base), extended by one token per length,
 * then mixed with n so that every bit depends on every token. */
#define NGRAM_BASE 0x100000001B3ULL
#define VISITED 0x80000000u /* in an n-gram's count: a window visited by the duplicate scan had it */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    return x;
}

static int ends_with_bytes(const unsigned char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}
static int starts_with_bytes(const unsigned char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* Sentence and line ends: ASCII . ! ? " ' and CJK 。！？…」』” ’ */
static const char *const TERMINALS[] = {".", "!", "?", "\"", "'", "。", "！", "？", "…", "」", "』", "”", "’", NULL};
/* Gopher's bullets (datatrove) and RedPajama-v2's */
static const char *const BULLETS[] = {"•", "-", "*", "‣", "▶", "◀", "◦", "■", "□", "▪", "▫", "–", "●", "○", "·", "◆", "►", NULL};
/* C4's policy phrases, and their Chinese counterparts */
static const char *const POLICY[] = {"terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                                     "use cookies", "隐私政策", "使用条款", "服务条款", "免责声明", NULL};

int cm_line_ends_terminal(const char *line, size_t len)
{
    const unsigned char *s = (const unsigned char *)line;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    for (int k = 0; TERMINALS[k]; k++)
        if (ends_with_bytes(s, len, TERMINALS[k])) return 1;
    return 0;
}

/* Characters of the text that are inside URLs (http://, https://, www.).
 * The next "http" and the next "www." are each searched for again only when
 * the scan has passed them: one pass over the text, not one per URL. */
static size_t url_chars(const unsigned char *s, size_t len)
{
    size_t total = 0, i = 0;
    const char *t = (const char *)s;
    const unsigned char *h = (const unsigned char *)cm_memmem(t, len, "http", 4),
                        *w = (const unsigned char *)cm_memmem(t, len, "www.", 4);
    while (h || w) {
        const unsigned char *p = h && (!w || h < w) ? h : w;
        size_t at = (size_t)(p - s);
        int ok = p == w || starts_with_bytes(p, len - at, "http://") || starts_with_bytes(p, len - at, "https://");
        if (at > 0 && (s[at - 1] | 32) >= 'a' && (s[at - 1] | 32) <= 'z') ok = 0; /* inside a word */
        if (!ok) i = at + 4;
        else {
            size_t j = at;
            while (j < len && s[j] > ' ' && s[j] < 0x80) j++;
            total += j - at;
            i = j;
        }
        if (h && (size_t)(h - s) < i) h = i < len ? (const unsigned char *)cm_memmem(t + i, len - i, "http", 4) : NULL;
        if (w && (size_t)(w - s) < i) w = i < len ? (const unsigned char *)cm_memmem(t + i, len - i, "www.", 4) : NULL;
    }
    return total;
}

/* Code points, and the digits, upper-case letters, white space and line
 * breaks among them. */
typedef struct char_counts {
    size_t chars, digits, upper, spaces, newlines;
} char_counts;

/* Bit 0 digit, bit 1 upper case, bit 2 white space, as ICU says; BMP
 * answers are kept (CJK punctuation and full-width forms recur in every
 * Chinese document). */
static unsigned char_props(cm_signals *S, uint32_t c)
{
    if (c >= 0x10000)
        return (u_isdigit((UChar32)c) != 0) | (u_isupper((UChar32)c) != 0) << 1 | (u_isUWhiteSpace((UChar32)c) != 0) << 2;
    if (!S->uprops) S->uprops = cm_calloc(0x10000, 1);
    uint8_t v = S->uprops[c];
    if (!v) {
        v = (uint8_t)(0x80 | (u_isdigit((UChar32)c) != 0) | (u_isupper((UChar32)c) != 0) << 1 |
                      (u_isUWhiteSpace((UChar32)c) != 0) << 2);
        S->uprops[c] = v;
    }
    return v;
}

#ifdef __SSE2__
/* Per-byte counters of the ASCII bytes of 16-byte blocks: each class's
 * compare result (0 or -1 per byte) subtracted, summed into char_counts
 * before a byte can wrap; and the blocks' characters. */
typedef struct ascii_counters {
    __m128i digits, upper, spaces, newlines;
    unsigned blocks;
    size_t chars;
} ascii_counters;

static size_t byte_sum(__m128i v)
{
    __m128i s = _mm_sad_epu8(v, _mm_setzero_si128());
    return (size_t)_mm_cvtsi128_si32(s) + (size_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(s, s));
}

static void ascii_flush(ascii_counters *a, char_counts *cc)
{
    cc->digits += byte_sum(a->digits);
    cc->upper += byte_sum(a->upper);
    cc->spaces += byte_sum(a->spaces);
    cc->newlines += byte_sum(a->newlines);
    cc->chars += a->chars;
    a->digits = a->upper = a->spaces = a->newlines = _mm_setzero_si128();
    a->blocks = 0;
    a->chars = 0;
}

/* The ASCII bytes of a block holding `chars` characters (a byte >= 0x80
 * is negative to the signed compares: in no class). */
static void count_block16(__m128i v, unsigned chars, ascii_counters *a, char_counts *cc)
{
    __m128i digit = cm_bytes_in_range(v, '0', '9');
    __m128i upper = cm_bytes_in_range(v, 'A', 'Z');
    __m128i nl = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
    __m128i space = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))), nl);
    a->digits = _mm_sub_epi8(a->digits, digit);
    a->upper = _mm_sub_epi8(a->upper, upper);
    a->spaces = _mm_sub_epi8(a->spaces, space);
    a->newlines = _mm_sub_epi8(a->newlines, nl);
    a->chars += chars;
    if (++a->blocks == 255) ascii_flush(a, cc);
}
#endif

/* Props of one non-ASCII character into cc (ideographs are none of them). */
static void count_props(cm_signals *S, uint32_t c, char_counts *cc)
{
    if (cm_is_han(c)) return;
    unsigned p = char_props(S, c);
    cc->digits += p & 1;
    cc->upper += (p >> 1) & 1;
    cc->spaces += (p >> 2) & 1;
}

/* 16 bytes at a time from a character's start (the text is valid UTF-8):
 * a character per lead byte, the ASCII classes by vector compares, and only
 * the characters of lead bytes other than E4-E9 looked at one by one
 * (U+4000..U+9FFF are ideographs and Yijing symbols: no digit, upper case
 * or space); the last character of a block may end past it. The tail a
 * code point at a time. */
static void count_characters(cm_signals *S, const unsigned char *s, size_t len, char_counts *cc)
{
    memset(cc, 0, sizeof *cc);
    size_t i = 0;
#ifdef __SSE2__
    ascii_counters a = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(), 0, 0};
    while (len - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        unsigned high = (unsigned)_mm_movemask_epi8(v);
        if (!high) {
            count_block16(v, 16, &a, cc);
            i += 16;
            continue;
        }
        unsigned lead = ~(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8((char)0xC0))) & 0xFFFF;
        unsigned cjk = (unsigned)_mm_movemask_epi8(cm_bytes_in_range(v, (char)0xE4, (char)0xE9));
        count_block16(v, (unsigned)__builtin_popcount(lead), &a, cc);
        for (unsigned other = high & lead & ~cjk; other; other &= other - 1) {
            size_t k;
            count_props(S, cm_utf8_decode_at(s, len, i + (size_t)__builtin_ctz(other), &k), cc);
        }
        i += 16;
        while (i < len && (s[i] & 0xC0) == 0x80) i++;
    }
    ascii_flush(&a, cc);
#endif
    while (i < len) {
        size_t k;
        uint32_t c = cm_utf8_decode_at(s, len, i, &k);
        cc->chars++;
        if (c < 0x80) {
            cc->digits += c >= '0' && c <= '9';
            cc->upper += c >= 'A' && c <= 'Z';
            cc->spaces += c == ' ' || c == '\t' || c == '\n';
            cc->newlines += c == '\n';
        } else {
            count_props(S, c, cc);
        }
        i += k;
    }
}

/* Whether a word is a stop word: a one-character CJK word (every Chinese
 * word with fast units) by the bitmap, any other by the table. */
static int is_stop_word(const cm_signals *S, const unsigned char *s, const cm_token *t)
{
    if (t->is_cjk && t->chars == 1 && t->len == 3) {
        size_t k;
        uint32_t c = cm_utf8_decode_at(s + t->start, 3, 0, &k);
        return S->stop_char[c >> 3] >> (c & 7) & 1;
    }
    return cm_htab_has(&S->stop, cm_token_key(t)); /* in lowercase */
}

/* The signals of the tokens (S->tz), sentences among them, and of the
 * character counts, in one pass over the tokens; returns how many words
 * are CJK. Sentences: runs of terminal punctuation, and a last sentence
 * without one. */
static size_t token_signals(cm_signals *S, const unsigned char *s, size_t len, const char_counts *cc,
                            cm_signal_values *v)
{
    size_t words = 0, word_chars = 0, alpha_tokens = 0, stop = 0, hashes = 0, ellipses = 0, cjk_words = 0;
    size_t sentences = 0;
    int open = 0;
    for (size_t i = 0; i < S->tz.n; i++) {
        const cm_token *t = &S->tz.tok[i];
        alpha_tokens += t->has_alpha;
        if (t->is_word) {
            words++;
            word_chars += t->chars;
            cjk_words += t->is_cjk;
            stop += is_stop_word(S, s, t);
            open = 1;
        } else {
            const unsigned char *p = s + t->start;
            if (p[0] == '#') hashes += t->chars;
            if (p[0] == '.' && t->chars >= 3) ellipses += t->chars / 3;
            int ellipsis = starts_with_bytes(p, t->len, "…");
            if (ellipsis) ellipses += t->chars;
            int term = p[0] == '.' || p[0] == '!' || p[0] == '?' || ellipsis || starts_with_bytes(p, t->len, "。") ||
                       starts_with_bytes(p, t->len, "！") || starts_with_bytes(p, t->len, "？");
            if (term && open) { sentences++; open = 0; }
        }
    }
    v->sentences = (double)(sentences + open);
    v->chars = (double)cc->chars;
    v->tokens = (double)S->tz.n;
    v->words = (double)words;
    /* the dominant script by words: a CJK character and a Latin word each
     * carry about one unit of meaning (letters would overweight Latin) */
    v->cjk_frac = words ? (double)cjk_words / (double)words : 0;
    v->cjk = v->cjk_frac >= 0.5;
    v->mean_word_length = words ? (double)word_chars / (double)words : 0;
    double ntok = S->tz.n ? (double)S->tz.n : 1;
    v->hash_word_ratio = (double)hashes / ntok;
    v->ellipsis_word_ratio = (double)ellipses / ntok;
    v->symbol_word_ratio = (double)(hashes + ellipses) / ntok;
    v->alpha_words_frac = S->tz.n ? (double)alpha_tokens / ntok : 0;
    v->stop_words = (double)stop;
    v->stop_words_frac = words ? (double)stop / (double)words : 0;
    v->digit_frac = cc->chars ? (double)cc->digits / (double)cc->chars : 0;
    v->upper_frac = cc->chars ? (double)cc->upper / (double)cc->chars : 0;
    v->whitespace_frac = cc->chars ? (double)cc->spaces / (double)cc->chars : 0;
    v->url_frac = cc->chars ? (double)url_chars(s, len) / (double)cc->chars : 0;
    v->newline_word_ratio = words ? (double)cc->newlines / (double)words : 0;
    return cjk_words;
}

/* The phrases the boilerplate signals look for in the lowercased text, in
 * one pass instead of a memmem per phrase: the first "javascript", the
 * first policy key (every policy phrase contains one; the Chinese ones only
 * where there is Chinese), and how many "lorem ipsum" (it cannot overlap
 * itself, so every occurrence counts, as a search that skips past each
 * match counts them). Candidates are the positions where the first three
 * bytes of a phrase are, 16 at a time with SSE2. */
enum { PH_JS, PH_POLICY, PH_LOREM };
static const struct phrase {
    const char *text;
    int kind, cjk;
} PHRASES[] = {
    {"javascript", PH_JS, 0},       {"cookie", PH_POLICY, 0},      {"privacy policy", PH_POLICY, 0},
    {"terms of use", PH_POLICY, 0}, {"隐私政策", PH_POLICY, 1},    {"条款", PH_POLICY, 1},
    {"免责声明", PH_POLICY, 1},     {"lorem ipsum", PH_LOREM, 0},
};
#define N_PHRASES (sizeof PHRASES / sizeof *PHRASES)

typedef struct phrase_scan {
    size_t js_at, policy_at; /* len when absent */
    size_t lorem;
} phrase_scan;

static void phrase_at(const unsigned char *low, size_t len, size_t i, int any_cjk, phrase_scan *r)
{
    for (size_t p = 0; p < N_PHRASES; p++) {
        const struct phrase *ph = &PHRASES[p];
        if (ph->cjk && !any_cjk) continue;
        if (!starts_with_bytes(low + i, len - i, ph->text)) continue;
        if (ph->kind == PH_JS && r->js_at == len) r->js_at = i;
        if (ph->kind == PH_POLICY && r->policy_at == len) r->policy_at = i;
        if (ph->kind == PH_LOREM) r->lorem++;
    }
}

/* Bit j set when low[i + j] starts one of the phrases' first three bytes,
 * for the positions j < n whose three bytes are inside the text. */
static unsigned candidates_scalar(const unsigned char *low, size_t len, size_t i, size_t n)
{
    unsigned m = 0;
    for (size_t j = 0; j < n && i + j + 3 <= len; j++)
        for (size_t p = 0; p < N_PHRASES; p++)
            if (!memcmp(low + i + j, PHRASES[p].text, 3)) { m |= 1u << j; break; }
    return m;
}

static void scan_phrases(const unsigned char *low, size_t len, int any_cjk, phrase_scan *r)
{
    r->js_at = r->policy_at = len;
    r->lorem = 0;
    size_t i = 0;
#ifdef __SSE2__
    __m128i first[N_PHRASES], second[N_PHRASES], third[N_PHRASES];
    for (size_t p = 0; p < N_PHRASES; p++) {
        first[p] = _mm_set1_epi8((char)PHRASES[p].text[0]);
        second[p] = _mm_set1_epi8((char)PHRASES[p].text[1]);
        third[p] = _mm_set1_epi8((char)PHRASES[p].text[2]);
    }
    for (; i + 18 <= len; i += 16) {
        __m128i v0 = _mm_loadu_si128((const __m128i *)(low + i)), v1 = _mm_loadu_si128((const __m128i *)(low + i + 1)),
                v2 = _mm_loadu_si128((const __m128i *)(low + i + 2)), any = _mm_setzero_si128();
        for (size_t p = 0; p < N_PHRASES; p++)
            any = _mm_or_si128(any, _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(v0, first[p]), _mm_cmpeq_epi8(v1, second[p])),
                                                  _mm_cmpeq_epi8(v2, third[p])));
        unsigned m = (unsigned)_mm_movemask_epi8(any);
        while (m) {
            phrase_at(low, len, i + (size_t)__builtin_ctz(m), any_cjk, r);
            m &= m - 1;
        }
    }
#endif
    for (; i < len; i += 16) {
        unsigned m = candidates_scalar(low, len, i, len - i < 16 ? len - i : 16);
        while (m) {
            phrase_at(low, len, i + (size_t)__builtin_ctz(m), any_cjk, r);
            m &= m - 1;
        }
    }
}

/* The lines (non-empty, into S->line) and their signals; short lines are
 * those of at most short_max code points; the Chinese policy phrases are
 * looked for only when any_cjk. */
static void line_signals(cm_signals *S, const unsigned char *s, size_t len, int short_max, int any_cjk,
                         cm_signal_values *v)
{
    cm_buf_clear(&S->lower);
    cm_buf_reserve(&S->lower, len);
    {
        /* through locals: a char store could alias S, which kept the loop scalar */
        unsigned char *restrict dst = (unsigned char *)S->lower.data;
        for (size_t i = 0; i < len; i++) dst[i] = (unsigned char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    }
    S->lower.len = len;
    size_t bullets = 0, ell_lines = 0, term_lines = 0, short_lines = 0, js_lines = 0, pol_lines = 0;
    /* the boilerplate phrases are rare: find them in the whole text, then
     * count the lines they are on */
    phrase_scan found;
    scan_phrases((const unsigned char *)S->lower.data, len, any_cjk, &found);
    size_t js_at = found.js_at, pol_at = found.policy_at;
    for (size_t i = 0; i < len;) {
        const unsigned char *nl = memchr(s + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - s) : len;
        size_t a = i, b = e;
        while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
        if (b > a) {
            if (S->n_line == S->cap_line) {
                S->cap_line = S->cap_line ? S->cap_line * 2 : 256;
                S->line = cm_realloc(S->line, S->cap_line * sizeof *S->line);
            }
            cm_line *L = &S->line[S->n_line++];
            L->start = (uint32_t)i;
            L->len = (uint32_t)(e - i);
            uint32_t lc = 0;
            for (size_t j = i; j < e; j++) lc += (s[j] & 0xC0) != 0x80;
            L->chars = lc;
            L->hash = cm_hash_bytes_inline(s + i, e - i);
            unsigned char first = s[a], last = s[b - 1];
            if (first == '-' || first == '*' || first == 0xE2 || first == 0xC2)
                for (int k = 0; BULLETS[k]; k++)
                    if (starts_with_bytes(s + a, b - a, BULLETS[k])) { bullets++; break; }
            if (last == '.' || last == 0xA6) /* "...", and the last byte of "…" */
                if (ends_with_bytes(s + a, b - a, "...") || ends_with_bytes(s + a, b - a, "…")) ell_lines++;
            if (cm_line_ends_terminal((const char *)s + a, b - a)) term_lines++;
            if (lc <= (uint32_t)short_max) short_lines++;
            if (js_at < e && js_at + 10 <= len) {
                const char *low = S->lower.data + i;
                if (cm_memmem(low, e - i, "javascript", 10)) js_lines++;
            }
            if (pol_at < e) {
                const char *low = S->lower.data + i;
                for (int k = 0; POLICY[k]; k++)
                    if (cm_memmem(low, e - i, POLICY[k], strlen(POLICY[k]))) { pol_lines++; break; }
            }
        }
        i = e + 1;
    }
    double nlines = S->n_line ? (double)S->n_line : 1;
    v->lines = (double)S->n_line;
    v->bullet_lines_frac = (double)bullets / nlines;
    v->ellipsis_lines_frac = (double)ell_lines / nlines;
    v->terminal_punct_lines_frac = S->n_line ? (double)term_lines / nlines : 0;
    v->short_lines_frac = S->n_line ? (double)short_lines / nlines : 0;
    v->javascript_lines = (double)js_lines;
    v->policy_lines = (double)pol_lines;
    size_t curly = 0;
    for (const unsigned char *p = s; (p = memchr(p, '{', len - (size_t)(p - s))); p++) curly++;
    v->curly_brackets = (double)curly;
    v->lorem_ipsum = (double)found.lorem;
}

/* Duplicate lines and paragraphs (datatrove's definitions: duplicates
 * beyond the first, by count and by characters). */
static void duplicate_signals(cm_signals *S, const unsigned char *s, size_t len, const char_counts *cc,
                              cm_signal_values *v)
{
    size_t chars = cc->chars, newlines = cc->newlines;
    double dchars = chars ? (double)chars : 1, nlines = S->n_line ? (double)S->n_line : 1;
    /* duplicate lines (datatrove: duplicates beyond the first) */
    cm_htab_reset(&S->h, S->n_line);
    size_t dup_lines = 0, dup_line_chars = 0;
    for (size_t i = 0; i < S->n_line; i++) {
        if (cm_htab_add(&S->h, S->line[i].hash) > 1) {
            dup_lines++;
            dup_line_chars += S->line[i].chars;
        }
    }
    v->dup_line_frac = (double)dup_lines / nlines;
    v->dup_line_char_frac = (double)dup_line_chars / dchars;
    v->dup_line_char_frac_fw = chars > newlines ? (double)dup_line_chars / (double)(chars - newlines) : 0;

    /* paragraphs: split on blank lines */
    cm_htab_reset(&S->h, S->n_line + 1);
    size_t paras = 0, dup_paras = 0, dup_para_chars = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *p = (const unsigned char *)cm_memmem((const char *)s + i, len - i, "\n\n", 2);
        size_t e = p ? (size_t)(p - s) : len;
        if (e > i) {
            paras++;
            if (cm_htab_add(&S->h, cm_hash_bytes(s + i, e - i)) > 1) {
                dup_paras++;
                for (size_t j = i; j < e; j++) dup_para_chars += (s[j] & 0xC0) != 0x80;
            }
        }
        i = e;
        while (i < len && s[i] == '\n') i++;
    }
    v->paragraphs = (double)paras;
    v->dup_para_frac = paras ? (double)dup_paras / (double)paras : 0;
    v->dup_para_char_frac = (double)dup_para_chars / dchars;
}

static void compute(cm_doc *doc)
{
    cm_signals *S = state(doc);
    const cm_signal_opts *o = S->opts;
    cm_signal_opts dflt;
    if (!o) { cm_signal_opts_default(&dflt); o = &dflt; }
    const unsigned char *s = (const unsigned char *)doc->text.data;
    size_t len = doc->text.len;
    cm_signal_values *v = &S->v;
    memset(v, 0, sizeof *v);
    size_t previous_tokens = S->tz.n;
    S->tz.n = S->n_line = 0;
    S->repetition = 0;
    S->judged = 1;
    S->judged_repetition = 0;
    if (!s) s = (const unsigned char *)"";
    char_counts cc;
    count_characters(S, s, len, &cc);
    if (!(S->n_kept && o->word_units == CM_WORDS_FAST && tokens_from_kept_lines(S, previous_tokens, (const char *)s, len)))
        cm_tokenize(&S->tz, o->word_units, (const char *)s, len);
    S->n_kept = 0;
    S->tokens_of_previous = 0;
    size_t cjk_words = token_signals(S, s, len, &cc, v);
    line_signals(S, s, len, v->cjk ? o->short_line_chars_cjk : o->short_line_chars, cjk_words > 0, v);
    duplicate_signals(S, s, len, &cc, v);
    S->valid = 1;
}

/* Tier 2: the n-gram repetition signals and word statistics (hash counting
 * over every token), the costly part; computed only when a step or the stored record
 * needs them. */
static void compute_repetition(cm_doc *doc)
{
    cm_signals *S = state(doc);
    cm_signal_values *v = &S->v;
    size_t chars = (size_t)v->chars, words = (size_t)v->words;
    double dchars = chars ? (double)chars : 1;
    size_t ntok = S->tz.n;
    if (ntok + 1 > S->cap_gram) {
        free(S->gram_at);
        free(S->gram_poly);
        free(S->gram_slot);
        free(S->gram_repeats);
        S->cap_gram = ntok + 1;
        S->gram_repeats = cm_malloc(S->cap_gram);
        S->gram_slot = cm_malloc(S->cap_gram * sizeof *S->gram_slot);
        S->gram_at = cm_malloc(S->cap_gram * sizeof *S->gram_at);
        S->gram_poly = cm_malloc(S->cap_gram * sizeof *S->gram_poly);
    }
    /* word statistics: unique fraction and entropy */
    const cm_token *tok = S->tz.tok;
    uint32_t *word_slot = S->gram_at; /* each word's slot, until the 2-grams are listed */
    cm_htab_reset(&S->h, ntok);
    for (size_t i = 0; i < ntok; i++)
        if (tok[i].is_word) word_slot[i] = (uint32_t)cm_htab_add_slot(&S->h, tok[i].hash);
    /* the counts in slot order, gathered without a branch (a free slot's
     * count is 0; about half the slots are free, which no predictor guesses) */
    uint32_t *counts = S->gram_slot;
    size_t uniq = 0;
    for (size_t i = 0; i < S->h.size; i++) {
        counts[uniq] = S->h.slot[i].count;
        uniq += counts[uniq] != 0;
    }
    double ent = 0;
    /* most words occur a few times: each small count's term is computed
     * once (the same bits, summed in the same order) instead of a log per word */
    enum { SMALL = 64 };
    double term[SMALL];
    uint64_t have = 0;
    for (size_t i = 0; i < uniq; i++) {
        uint32_t c = counts[i];
        if (c < SMALL && (have >> c & 1)) { ent -= term[c]; continue; }
        double p = (double)c / (double)(words ? words : 1);
        double t = p * log(p);
        if (c < SMALL) { term[c] = t; have |= 1ULL << c; }
        ent -= t;
    }
    v->unique_words_frac = words ? (double)uniq / (double)words : 0;
    v->unigram_entropy = ent;

    /* n-grams over all tokens, as datatrove's GopherRepetitionFilter:
     * top n-gram: its length joined with spaces times its count; duplicated
     * n-grams: characters of repeated occurrences, skipping past each one.
     * An n-gram can occur twice only where its (n-1)-gram prefix and its
     * (n-1)-gram suffix do, so each length looks only at the windows whose
     * (n-1)-grams at i and i + 1 were both counted twice or more (S->gram_at,
     * in text order; S->gram_repeats marks the suffixes): the same counts and
     * the same skips as a pass over every window, on a shrinking share of
     * them. */
    uint32_t *at = S->gram_at;
    uint64_t *poly = S->gram_poly;
    uint8_t *repeats = S->gram_repeats;
    memset(repeats, 0, ntok + 1);
    /* the 2-grams that can repeat: a word seen once can neither start nor
     * end a repeated one (symbols are not counted above: they stay). Listed
     * in place over word_slot, whose entry i + 1 is read before entry
     * `live` <= i is written. */
    size_t live = 0;
    if (ntok >= 2) {
        int prev = !tok[0].is_word || S->h.slot[word_slot[0]].count >= 2;
        for (size_t i = 0; i + 1 < ntok; i++) {
            int next = !tok[i + 1].is_word || S->h.slot[word_slot[i + 1]].count >= 2;
            at[live] = (uint32_t)i;
            poly[live] = tok[i].hash * NGRAM_BASE + tok[i + 1].hash;
            live += prev & next;
            prev = next;
        }
    }
    double *top[] = {&v->top_2gram_frac, &v->top_3gram_frac, &v->top_4gram_frac};
    double *dup[] = {&v->dup_5gram_frac, &v->dup_6gram_frac, &v->dup_7gram_frac,
                     &v->dup_8gram_frac, &v->dup_9gram_frac, &v->dup_10gram_frac};
    for (int n = 2; n <= 10 && live; n++) {
        /* extend each live (n-1)-gram by its next token (the 2-grams are listed) */
        size_t m = 0;
        if (n > 2) {
            for (size_t c = 0; c < live; c++) {
                size_t i = at[c];
                if (i + (size_t)n > ntok) break; /* in order: the rest end past the text too */
                at[m] = (uint32_t)i;
                poly[m] = poly[c] * NGRAM_BASE + tok[i + (size_t)n - 1].hash;
                m += repeats[i + 1] == n - 1;
            }
            live = m;
        }
        if (!live) break;
        cm_htab_reset(&S->h, live);
        uint32_t *slot = S->gram_slot;
        if (n <= 4) {
            /* every window's count: the top n-gram, and the windows that
             * stay live for n + 1 */
            uint32_t best = 0;
            size_t best_at = 0;
            for (size_t c = 0; c < live; c++) {
                size_t x = cm_htab_add_slot(&S->h, mix64(poly[c] + (uint64_t)n));
                uint32_t k = S->h.slot[x].count;
                slot[c] = (uint32_t)x;
                if (k > best) { best = k; best_at = at[c]; }
            }
            /* an n-gram seen once is no repetition (datatrove counts it too,
             * which drops short documents for nothing); and when no n-gram
             * repeats, none stays live and the loop ends */
            if (best >= 2) {
                size_t gram_chars = (size_t)n - 1;
                for (int j = 0; j < n; j++) gram_chars += S->tz.tok[best_at + (size_t)j].chars;
                *top[n - 2] = (double)(gram_chars * best) / dchars;
            }
        } else {
            /* duplicated n-grams: the windows visited in order, past each
             * repeated one; VISITED marks the n-grams of visited windows, in
             * the pass that counts every window for the next length. A
             * window whose prefix or suffix is unique can neither repeat nor
             * be repeated, so it is never looked up. */
            size_t repeated = 0, next = 0;
            for (size_t c = 0; c < live; c++) {
                size_t i = at[c];
                size_t x = cm_htab_add_slot(&S->h, mix64(poly[c] + (uint64_t)n));
                slot[c] = (uint32_t)x;
                if (i < next) continue;
                if (S->h.slot[x].count & VISITED) {
                    for (int j = 0; j < n; j++) repeated += S->tz.tok[i + (size_t)j].chars;
                    next = i + (size_t)n;
                } else {
                    S->h.slot[x].count |= VISITED;
                }
            }
            *dup[n - 5] = (double)repeated / dchars;
            /* no repeated n-gram means no repeated longer one: the rest are 0 */
            if (repeated == 0 || n == 10) break;
        }
        m = 0; /* without a branch: about half the windows stay, which no predictor guesses */
        for (size_t c = 0; c < live; c++) {
            int again = (S->h.slot[slot[c]].count & ~VISITED) >= 2;
            at[m] = at[c];
            poly[m] = poly[c];
            repeats[at[c]] = (uint8_t)(again * n);
            m += again;
        }
        live = m;
    }
    S->repetition = 1;
    S->judged_repetition = 1;
}

const cm_signal_values *cm_signals_get(cm_doc *doc)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    if (!S->repetition) compute_repetition(doc);
    return &S->v;
}

const cm_signal_values *cm_signals_basic(cm_doc *doc)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    return &S->v;
}

const cm_token *cm_signals_tokens(cm_doc *doc, size_t *n)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    *n = S->tz.n;
    return S->tz.tok;
}

const cm_line *cm_signals_lines(cm_doc *doc, size_t *n)
{
    cm_signals *S = state(doc);
    S->used = 1;
    if (!S->valid) compute(doc);
    *n = S->n_line;
    return S->line;
}

static int is_repetition_signal(const char *name)
{
    return !strncmp(name, "top_", 4) || (!strncmp(name, "dup_", 4) && strstr(name, "gram")) ||
           !strcmp(name, "unique_words_frac") || !strcmp(name, "unigram_entropy");
}

/* Integers as they are; other values rounded to 4 decimals (without
 * printf: ~50 values per record). */
static void append_number(cm_buf *out, double x)
{
    if (!(fabs(x) < 1e15)) { cm_buf_appendf(out, "%g", x); return; }
    if (x < 0) { cm_buf_append_char(out, '-'); x = -x; }
    uint64_t scaled = (uint64_t)(x * 10000 + 0.5);
    cm_buf_append_u64(out, scaled / 10000);
    uint64_t frac = scaled % 10000;
    if (!frac) return;
    char d[6] = {'.', (char)('0' + frac / 1000), (char)('0' + frac / 100 % 10), (char)('0' + frac / 10 % 10),
                 (char)('0' + frac % 10), 0};
    int n = 5;
    while (d[n - 1] == '0') n--;
    cm_buf_append(out, d, (size_t)n);
}

void cm_signals_json(cm_doc *doc, cm_buf *out)
{
    int store = cm_signals_store(doc);
    /* auto: the values the steps judged the document on (a step that then
     * rewrote the text, such as pii, does not cause a recount); always:
     * everything, for the final text */
    const cm_signal_values *v = store == CM_STORE_ALWAYS ? cm_signals_get(doc) : NULL;
    cm_signals *S = state(doc);
    if (!v && S->judged) v = &S->v;
    /* auto, and no step looked at the signals (only set extras, such as a
     * model's score): the extras alone, nothing computed for them */
    int extras_only = !v && !S->used;
    if (!v && !extras_only) v = cm_signals_basic(doc);
    int with_repetition = store == CM_STORE_ALWAYS || S->judged_repetition;
    cm_buf_append_str(out, "\"signals\":{");
    int first = 1;
    for (int i = 0; !extras_only && cm_signal_defs[i].name; i++) {
        if (!with_repetition && is_repetition_signal(cm_signal_defs[i].name)) continue;
        if (!first) cm_buf_append_char(out, ',');
        first = 0;
        cm_buf_append_char(out, '"');
        cm_buf_append_str(out, cm_signal_defs[i].name);
        cm_buf_append(out, "\":", 2);
        append_number(out, cm_signal_value(v, (int)i));
    }
    for (size_t i = 0; i < S->n_extras; i++) {
        if (first) cm_buf_append_char(out, '"');
        else cm_buf_append(out, ",\"", 2);
        first = 0;
        cm_buf_append_str(out, S->extras[i].name);
        cm_buf_append(out, "\":", 2);
        append_number(out, S->extras[i].value);
    }
    cm_buf_append_char(out, '}');
}

double cm_signal_value(const cm_signal_values *v, int index)
{
    double x;
    memcpy(&x, (const char *)v + cm_signal_defs[index].offset, sizeof x);
    return x;
}
