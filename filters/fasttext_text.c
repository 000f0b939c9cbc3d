/* fasttext_text.c -- a document's text as a fastText classifier reads it
 * (see fasttext_text.h). fastText splits on white space and takes a line
 * break as the end of its input, so a document becomes one line; Chinese and
 * Japanese have no spaces, so their characters (or ICU's words) are spaced
 * out, the way the model's training text was. */
#include "fasttext_text.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../pipeline/json.h"
#include "tokens.h"

const char *const cm_ft_cjk_names[] = {"none", "chars", "words", NULL};

/* Characters that stand alone as tokens in CM_FT_CJK_CHARS: ideographs,
 * kana, hangul, and the CJK and full-width punctuation. */
static int stands_alone(uint32_t c)
{
    return cm_is_han(c) || cm_is_kana_hangul(c) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}

static void space(cm_buf *out)
{
    if (out->len && out->data[out->len - 1] != ' ') cm_buf_append_char(out, ' ');
}

void cm_fasttext_text(const char *text, size_t len, int cjk, cm_buf *out)
{
    cm_buf_clear(out);
    const unsigned char *s = (const unsigned char *)text;
    if (cjk == CM_FT_CJK_WORDS) {
        cm_tokenizer tz;
        cm_tokenizer_init(&tz);
        cm_tokenize(&tz, CM_WORDS_ICU, text, len);
        for (size_t i = 0; i < tz.n; i++) {
            space(out);
            const char *p = text + tz.tok[i].start;
            for (uint32_t j = 0; j < tz.tok[i].len; j++) /* a token holds no white space but odd ones: drop them */
                cm_buf_append_char(out, p[j] == '\n' || p[j] == '\r' || p[j] == '\t' ? ' ' : p[j]);
        }
        cm_tokenizer_free(&tz);
        return;
    }
    /* runs of ordinary characters are copied whole */
    size_t run = 0, i = 0;
    while (i < len) {
        unsigned char b = s[i];
        if (b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == '\v' || b == '\f') {
            cm_buf_append(out, text + run, i - run);
            space(out);
            run = ++i;
            continue;
        }
        if (b < 0x80 || cjk != CM_FT_CJK_CHARS) { i++; continue; }
        size_t k;
        uint32_t c = cm_utf8_decode_at(s, len, i, &k);
        if (stands_alone(c)) {
            cm_buf_append(out, text + run, i - run);
            space(out);
            cm_buf_append(out, text + i, k);
            cm_buf_append_char(out, ' ');
            run = i + k;
        }
        i += k;
    }
    cm_buf_append(out, text + run, len - run);
    while (out->len && out->data[out->len - 1] == ' ') out->len--;
}

void cm_ft_side_path(const char *model, char *path, size_t cap) { snprintf(path, cap, "%s.json", model); }

int cm_ft_side_read(const char *model, cm_ft_side *side, cm_err *err)
{
    memset(side, 0, sizeof *side);
    snprintf(side->label, sizeof side->label, "__label__hq");
    char path[4200], cjk[16] = "none";
    cm_ft_side_path(model, path, sizeof path);
    if (access(path, F_OK) != 0) return 0;
    const cm_json_field f[] = {
        {"label", CM_JSON_STRING, side->label, sizeof side->label, NULL},
        {"cjk", CM_JSON_STRING, cjk, sizeof cjk, NULL},
        {NULL, 0, NULL, 0, NULL},
    };
    if (cm_json_file_fields(path, f, NULL, err)) return -1;
    side->cjk = -1;
    for (int i = 0; cm_ft_cjk_names[i]; i++)
        if (strcmp(cm_ft_cjk_names[i], cjk) == 0) side->cjk = i;
    if (side->cjk < 0) return cm_errorf(err, "%s: cjk is \"%s\", not none, chars or words", path, cjk);
    side->found = 1;
    return 0;
}

cm_fasttext *cm_ft_open(const char *model, const char *label, cm_err *err)
{
    char msg[600];
    cm_fasttext *m = cm_fasttext_load(model, msg, sizeof msg);
    if (!m) { cm_errorf(err, "%s", msg); return NULL; }
    if (label && !cm_fasttext_has_label(m, label)) {
        cm_fasttext_free(m);
        cm_errorf(err, "%s: the model has no label %s", model, label);
        return NULL;
    }
    return m;
}
