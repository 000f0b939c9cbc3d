/* test_normalize.c -- the normalize step: NFKC, the Chinese punctuation
 * policy, NFC, control characters, line endings, invisible characters,
 * spaces, blank lines, and the empty-document drop. */
#include "check.h"
#include "filter.h"

#include <stdlib.h>

static void *make(const char *yaml, cm_err *err)
{
    const cm_filter *f = cm_filter_find("normalize");
    cm_conf *c = yaml ? cm_conf_load_string(yaml, strlen(yaml), "test.yaml", err) : NULL;
    if (yaml && !c) return NULL;
    void *s = f->create(c, err);
    cm_conf_free(c); /* options are read at create time */
    return s;
}

/* Runs the step on text; returns the verdict, the result in out. */
static cm_verdict norm(void *state, const char *text, char *out, size_t cap)
{
    const cm_filter *f = cm_filter_find("normalize");
    cm_doc d;
    cm_doc_init(&d);
    cm_buf_append(&d.text, text, strlen(text));
    cm_verdict v = f->apply(state, &d);
    snprintf(out, cap, "%s", d.text.data ? d.text.data : "");
    cm_doc_free(&d);
    return v;
}

int main(void)
{
    cm_err err;
    char out[4096];
    const cm_filter *f = cm_filter_find("normalize");
    CHECK(f != NULL);
    void *dflt = make(NULL, &err);
    CHECK(dflt != NULL);

    /* NFKC folds full-width letters and digits, ligatures, NBSP ... */
    norm(dflt, "ＡＢＣ１２３ ﬁne\u00a0x", out, sizeof out);
    CHECK_STR(out, "ABC123 fine x");
    /* ... but Chinese keeps its full-width punctuation by default */
    norm(dflt, "你好，世界！真的吗？注意：分号；（括号）……～", out, sizeof out);
    CHECK_STR(out, "你好，世界！真的吗？注意：分号；（括号）……～");
    /* 。「」《》、 are not touched by NFKC anyway */
    norm(dflt, "「他说：《书》很好。」、", out, sizeof out);
    CHECK_STR(out, "「他说：《书》很好。」、");
    /* the ideographic space is a space (and runs of spaces collapse) */
    norm(dflt, "中文\u3000\u3000文本", out, sizeof out);
    CHECK_STR(out, "中文 文本");

    /* plain NFKC when the policy is off */
    void *plain = make("keep_cjk_punctuation: false\n", &err);
    CHECK(plain != NULL);
    norm(plain, "你好，世界！……", out, sizeof out);
    CHECK_STR(out, "你好,世界!......");
    f->destroy(plain);

    /* a custom protected set */
    void *custom = make("cjk_punctuation: \"！\"\n", &err);
    norm(custom, "你好，世界！", out, sizeof out);
    CHECK_STR(out, "你好,世界！");
    f->destroy(custom);

    /* NFC composes but keeps compatibility characters */
    void *nfc = make("form: nfc\n", &err);
    norm(nfc, "e\u0301 ＡＢ", out, sizeof out);
    CHECK_STR(out, "\u00e9 ＡＢ");
    f->destroy(nfc);
    void *none = make("form: none\n", &err);
    norm(none, "e\u0301 ＡＢ", out, sizeof out);
    CHECK_STR(out, "e\u0301 ＡＢ");
    f->destroy(none);

    /* control characters go, \n and \t stay; line endings become \n */
    norm(dflt, "a\x01\x07" "b\x7f\tc\r\nd\re\xc2\x85" "f\u2028g\xc2\x80" "h", out, sizeof out);
    CHECK_STR(out, "ab\tc\nd\ne\nf\ngh");
    /* BOM, zero-width space and word joiner go; ZWJ stays (emoji sequences) */
    norm(dflt, "\ufeffa\u200bb\u2060c \U0001F468\u200d\U0001F469", out, sizeof out);
    CHECK_STR(out, "abc \U0001F468\u200d\U0001F469");
    /* trailing blanks per line, runs of spaces inside a line, indentation kept */
    norm(dflt, "title   \t\n    indented  code\nx \t y\tz\t\tw", out, sizeof out);
    CHECK_STR(out, "title\n    indented code\nx y\tz\t\tw");
    /* at most one blank line; none at the start or end */
    norm(dflt, "\n\n  \na\n\n\n\n\nb\n\n\n", out, sizeof out);
    CHECK_STR(out, "a\n\nb");
    void *keep_blank = make("collapse_blank_lines: false\ncollapse_spaces: false\n", &err);
    norm(keep_blank, "a\n\n\n\nb  c", out, sizeof out);
    CHECK_STR(out, "a\n\n\n\nb  c");
    f->destroy(keep_blank);

    /* a document left empty is dropped with the rule "empty" */
    {
        cm_doc d;
        cm_doc_init(&d);
        cm_buf_append_str(&d.text, " \u200b\r\n\t\u3000 ");
        CHECK(f->apply(dflt, &d) == CM_DROP);
        CHECK_STR(d.drop_rule, "empty");
        cm_doc_free(&d);
    }
    CHECK(norm(dflt, "x", out, sizeof out) == CM_KEEP);

    /* text that needs nothing is left alone and not marked changed */
    {
        cm_doc d;
        cm_doc_init(&d);
        cm_buf_append_str(&d.text, "已经规范的中文文本，没有问题。\nPlain line.");
        f->apply(dflt, &d);
        CHECK(d.text_changed == 0);
        cm_doc_free(&d);
    }

    /* bad options are errors that name the file and line */
    CHECK(make("form: nfkd\n", &err) == NULL);
    CHECK_CONTAINS(err.msg, "test.yaml:1:");
    CHECK_CONTAINS(err.msg, "nfkd");
    CHECK(make("fomr: nfc\n", &err) == NULL);
    CHECK_CONTAINS(err.msg, "unknown key 'fomr'");
    CHECK(make("drop_empty: maybe\n", &err) == NULL);
    CHECK_CONTAINS(err.msg, "true or false");

    f->destroy(dflt);
    CHECK_DONE();
}
