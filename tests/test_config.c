/* test_config.c -- config loading: defaults, overrides, and errors that
 * name the key, the file and the line; the core config and each stage's
 * section, as the program loads them (its table of stages). */
#include "check.h"
#include "config.h"
#include "../dedup/dedup_stage.h"
#include "../embed/embed_stage.h"
#include "../filters/clean_stage.h"
#include "../programs/program.h"

static cm_config *parse(const char *yaml, const char *name, cm_err *err)
{
    return cm_config_parse(yaml, name, cm_stages, err);
}

static const cm_clean_options *clean_of(const cm_config *c) { return cm_config_options(c, "clean"); }
static const cm_embed_options *embed_of(const cm_config *c) { return cm_config_options(c, "embed"); }

int main(void)
{
    cm_err err;
    cm_config *c = parse("", "empty.yaml", &err);
    CHECK(c != NULL);
    if (c) {
        CHECK(c->input.format == CM_FORMAT_AUTO);
        CHECK(c->input.n_text_fields == 1);
        CHECK_STR(c->input.text_fields[0], "content");
        CHECK_STR(c->input.id_field, "id");
        CHECK_STR(c->output.dir, "out");
        CHECK(c->output.part_size == 256u << 20);
        CHECK(c->output.zstd_level == 2);
        CHECK(c->output.keep_rejected == CM_REJECTED_FULL);
        CHECK(c->run.on_error == CM_ON_ERROR_SKIP);
        CHECK(c->run.max_record_size == 64u << 20);
        CHECK(clean_of(c)->invalid_utf8 == CM_UTF8_REPLACE);
        CHECK(clean_of(c)->steps != NULL && clean_of(c)->steps->n == 1); /* the reference: normalize */
        cm_config_free(c);
    }

    c = parse("input:\n  paths: [a, b]\n  format: lines\n  text_field: [text, content]\n"
                        "output:\n  part_size: 1.5MiB\n  keep_rejected: ids\n"
                        "run:\n  tasks: 4\n  on_error: fail\n  max_record_size: 2KB\n"
                        "clean:\n  invalid_utf8: quarantine\n  steps:\n    - normalize:\n        form: nfc\n",
                        "full.yaml", &err);
    CHECK(c != NULL);
    if (c) {
        CHECK(c->input.n_paths == 2);
        CHECK(c->input.format == CM_FORMAT_LINES);
        CHECK(c->input.n_text_fields == 2);
        CHECK_STR(c->input.text_fields[0], "text");
        CHECK(c->output.part_size == (uint64_t)(1.5 * 1048576));
        CHECK(c->output.keep_rejected == CM_REJECTED_IDS);
        CHECK(c->run.tasks == 4);
        CHECK(c->run.on_error == CM_ON_ERROR_FAIL);
        CHECK(c->run.max_record_size == 2000);
        CHECK(clean_of(c)->invalid_utf8 == CM_UTF8_QUARANTINE);
        CHECK(clean_of(c)->steps != NULL && clean_of(c)->steps->n == 1);
        char *in[] = {"x.jsonl"};
        cm_config_set_inputs(c, in, 1);
        CHECK(c->input.n_paths == 1);
        CHECK_STR(c->input.paths[0], "x.jsonl");
        cm_config_free(c);
    }

    /* errors: each names the file, the line and the problem */
    struct {
        const char *yaml, *want1, *want2;
    } bad[] = {
        {"inptu:\n  paths: [a]\n", "bad.yaml:1:1", "unknown key 'inptu'"},
        {"input:\n  paths: [a]\n  fromat: jsonl\n", "bad.yaml:3:3", "unknown key 'fromat' in input"},
        {"run:\n  tasks: many\n", "bad.yaml:2:10", "'tasks' must be an integer"},
        {"run:\n  tasks: 0\n", "bad.yaml:2", "between 1 and"},
        {"run:\n  on_error: ignore\n", "bad.yaml:2", "skip, fail"},
        {"output:\n  part_size: 12 parsecs\n", "bad.yaml:2", "unknown size unit"},
        {"output:\n  part_size: 20000000000000000000000TiB\n", "bad.yaml:2", "too large"},
        {"output:\n  part_size: 1e400\n", "bad.yaml:2", "must be a size"},
        {"output:\n  zstd_level: [1]\n", "bad.yaml:2", "single value"},
        {"clean:\n  steps:\n    - normalise: {}\n", "bad.yaml:3", "unknown filter 'normalise'"},
        {"clean:\n  steps:\n    - normalize:\n        form: nfkd\n", "bad.yaml:4", "'form' must be one of"},
        {"clean:\n  steps: normalize\n", "bad.yaml:2", "must be a list"},
        {"input:\n  paths: [a]\n  paths: [b]\n", "bad.yaml:3", "duplicate key 'paths'"},
        {"input: [\n", "bad.yaml:", "YAML error"},
        {"- a\n- b\n", "bad.yaml:1", "map of sections"},
        {"clean:\n  invalid_utf8: drop\n", "bad.yaml:2", "replace, quarantine"},
        {"run:\n  max_record_size: 8GiB\n", "bad.yaml:2", "between 1KiB and 1GiB"},
        {"clean:\n  signals: {word_units: jieba}\n", "bad.yaml:2", "fast, icu"},
        {"embed:\n  chunk:\n    max_token: 100\n", "bad.yaml:3", "unknown key 'max_token' in embed.chunk"},
        {"embed:\n  chunk: {max_tokens: 64, overlap: 64}\n", "bad.yaml:2", "overlap must be smaller than max_tokens"},
        {"embed:\n  dim: 0\n", "bad.yaml:2", "between 1 and"},
        {"embed:\n  modle: hash\n", "bad.yaml:2", "unknown key 'modle' in embed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = parse(bad[i].yaml, "bad.yaml", &err);
        CHECK(c == NULL);
        if (c) { fprintf(stderr, "accepted: %s\n", bad[i].yaml); cm_config_free(c); continue; }
        CHECK_CONTAINS(err.msg, bad[i].want1);
        CHECK_CONTAINS(err.msg, bad[i].want2);
    }

    /* the reference `corpusmill config` prints (the core's, then each
     * stage's) states the real defaults */
    {
        cm_buf text;
        cm_buf_init(&text);
        cm_buf_append_str(&text, cm_config_reference);
        for (size_t i = 0; cm_stages[i]; i++) cm_buf_append_str(&text, cm_stages[i]->reference);
        cm_config *ref = parse(text.data, "reference.yaml", &err);
        cm_buf_free(&text);
        cm_config *dflt = parse("", "empty.yaml", &err);
        CHECK(ref && dflt);
        if (ref && dflt) {
            CHECK(ref->input.format == dflt->input.format);
            CHECK_STR(ref->input.text_fields[0], dflt->input.text_fields[0]);
            CHECK_STR(ref->input.id_field, dflt->input.id_field);
            CHECK(ref->input.exam_cn == dflt->input.exam_cn);
            CHECK_STR(ref->input.exam_template, dflt->input.exam_template);
            CHECK_STR(ref->output.dir, dflt->output.dir);
            CHECK(ref->output.part_size == dflt->output.part_size);
            CHECK(ref->output.zstd_level == dflt->output.zstd_level);
            CHECK(ref->output.keep_rejected == dflt->output.keep_rejected);
            CHECK(ref->run.tasks == dflt->run.tasks && ref->run.jobs == dflt->run.jobs);
            CHECK(ref->run.threads == dflt->run.threads && ref->run.on_error == dflt->run.on_error);
            CHECK(ref->run.max_malformed_fraction == dflt->run.max_malformed_fraction);
            CHECK(ref->run.max_record_size == dflt->run.max_record_size);
            CHECK(ref->run.batch_size == dflt->run.batch_size);
            CHECK(ref->run.max_error_lines == dflt->run.max_error_lines);
            CHECK(clean_of(ref)->invalid_utf8 == clean_of(dflt)->invalid_utf8);
        }
        cm_config_free(ref);
        cm_config_free(dflt);
    }

    /* the defaults a module states for library callers agree with the
     * stage's reference, which the loader reads */
    c = parse("", "empty.yaml", &err);
    if (c) {
        cm_signal_opts so;
        cm_signal_opts_default(&so);
        const cm_signal_opts *co = &clean_of(c)->signals;
        CHECK(co->word_units == so.word_units && co->short_line_chars == so.short_line_chars &&
              co->short_line_chars_cjk == so.short_line_chars_cjk && co->store == so.store);
        cm_minhash_params mp;
        cm_minhash_params_default(&mp);
        const cm_dedup_options *dd = cm_config_options(c, "dedup");
        CHECK(dd->params.ngram == mp.ngram && dd->params.bands == mp.bands && dd->params.rows == mp.rows &&
              dd->params.seed == mp.seed);
        CHECK(clean_of(c)->steps && clean_of(c)->steps->n == 1); /* normalize only */
        cm_config_free(c);
    }

    /* embed: off without its section; defaults; null is the model's own prefix */
    c = parse("", "empty.yaml", &err);
    CHECK(c && !cm_config_has(c, "embed") && !strcmp(embed_of(c)->model, "hash") && embed_of(c)->dim == 512 &&
          embed_of(c)->overlap == 32 && embed_of(c)->max_tokens == 0 && embed_of(c)->markdown &&
          embed_of(c)->query_prefix == NULL);
    cm_config_free(c);
    c = parse("embed:\n  model: models/bge\n  query_prefix: null\n  chunk: {max_tokens: 300, markdown: false}\n",
                        "embed.yaml", &err);
    CHECK(c && cm_config_has(c, "embed") && !strcmp(embed_of(c)->model, "models/bge") &&
          embed_of(c)->query_prefix == NULL && embed_of(c)->max_tokens == 300 && !embed_of(c)->markdown);
    cm_config_free(c);
    c = parse("embed:\n  query_prefix: \"query: \"\n", "embed.yaml", &err);
    CHECK(c && embed_of(c)->query_prefix && !strcmp(embed_of(c)->query_prefix, "query: "));
    cm_config_free(c);

    /* the shipped demo config loads */
    c = cm_config_load(CM_SOURCE_DIR "/configs/demo.yaml", cm_stages, &err);
    if (!c) fprintf(stderr, "%s\n", err.msg);
    CHECK(c != NULL);
    cm_config_free(c);
    CHECK(cm_config_load("/nonexistent/x.yaml", cm_stages, &err) == NULL);
    CHECK_CONTAINS(err.msg, "/nonexistent/x.yaml");
    CHECK(err.kind == CM_ERR_USAGE);

    /* the core alone knows input, output and run: a stage's section is
     * unknown to a loader not given that stage, and each stage reads only
     * its own section */
    const cm_stage_def *const only_clean[] = {&cm_stage_clean, NULL};
    c = cm_config_parse("dedup:\n  ngram: 4\n", "core.yaml", only_clean, &err);
    CHECK(c == NULL);
    CHECK_CONTAINS(err.msg, "unknown key 'dedup'");
    c = cm_config_parse("clean:\n  invalid_utf8: quarantine\n", "core.yaml", only_clean, &err);
    CHECK(c && clean_of(c)->invalid_utf8 == CM_UTF8_QUARANTINE && cm_config_options(c, "dedup") == NULL);
    cm_config_free(c);
    c = parse("dedup:\n  ngram: 4\n  previous: [old]\n", "dedup.yaml", &err);
    const cm_dedup_options *d = c ? cm_config_options(c, "dedup") : NULL;
    CHECK(d && d->params.ngram == 4 && d->n_previous == 1 && d->params.bands == 14 && cm_config_has(c, "dedup"));
    cm_config_free(c);

    /* found by the hostile suite: aliases of aliases expanded without bound
     * (9^6 nodes here; the loader stops at 100,000) */
    const char *laughs = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                         "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                         "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n";
    CHECK(parse(laughs, "laughs.yaml", &err) == NULL);
    CHECK_CONTAINS(err.msg, "more than 100000 nodes");
    /* the input limits parse */
    c = parse("input:\n  max_member_size: 1GiB\n  max_ratio: 50\n", "limits.yaml", &err);
    CHECK(c && c->input.max_member_size == 1ull << 30 && c->input.max_ratio == 50);
    cm_config_free(c);
    CHECK_DONE();
}
