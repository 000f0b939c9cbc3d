/* test_bert.c -- loading BERT folders and running them: the tokenizer
 * agrees with the Python port of BertTokenizer on the fixture texts
 * (tokens.txt in each fixture folder), results do not depend on batch size or
 * on which texts share a batch, and broken folders (a missing tensor, a
 * shape that disagrees with config.json, an unsupported activation, a
 * vocabulary larger than vocab_size, a truncated weights file) are refused
 * with an error naming the file. The numbers themselves are checked
 * against PyTorch by test_bert_reference.sh. */
#include "bert.h"
#include "check.h"
#include "embedder.h"

#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIXTURES CM_SOURCE_DIR "/tests/fixtures"

static char **read_lines(const char *path, size_t *n)
{
    cm_buf b;
    cm_buf_init(&b);
    cm_err err;
    *n = 0;
    if (cm_read_file(path, &b, 1 << 20, &err)) { fprintf(stderr, "%s\n", err.msg); return NULL; }
    char **lines = NULL;
    char *s = b.data;
    while (s && *s) {
        char *nl = strchr(s, '\n');
        if (nl) *nl = 0;
        lines = realloc(lines, (*n + 1) * sizeof *lines);
        lines[(*n)++] = strdup(s);
        s = nl ? nl + 1 : NULL;
    }
    cm_buf_free(&b);
    return lines;
}

static void free_lines(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

static void check_tokens(const char *model)
{
    char path[512];
    cm_err err;
    snprintf(path, sizeof path, FIXTURES "/%s", model);
    cm_bert *m = cm_bert_load(path, &err);
    CHECK(m != NULL);
    if (!m) { fprintf(stderr, "%s\n", err.msg); return; }
    size_t nt, nw;
    char **texts = read_lines(FIXTURES "/tiny-bert-texts.txt", &nt);
    snprintf(path, sizeof path, FIXTURES "/%s/tokens.txt", model);
    char **want = read_lines(path, &nw);
    CHECK(nt == 8 && nw == nt);
    cm_buf got;
    cm_buf_init(&got);
    for (size_t i = 0; i < nt && i < nw; i++) {
        size_t n = cm_wordpiece_tokens(m->vocab, texts[i], strlen(texts[i]), &got);
        /* tokens.txt holds what survives truncation to max_len - 2 tokens */
        size_t keep = (size_t)m->max_len - 2, seen = 0;
        for (size_t k = 0; n > keep && k < got.len; k++)
            if (got.data[k] == ' ' && ++seen == keep) { got.data[k] = 0; break; }
        CHECK_STR(got.data, want[i]);
    }
    cm_buf_free(&got);
    free_lines(texts, nt);
    free_lines(want, nw);
    cm_bert_free(m);
}

/* The same vectors whatever the batch size and the window's other texts. */
static void check_batching(const char *model)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "/%s", model);
    size_t n;
    char **texts = read_lines(FIXTURES "/tiny-bert-texts.txt", &n);
    size_t lens[16];
    for (size_t i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    cm_err err;
    cm_embedder_opts o;
    cm_embedder_opts_init(&o);
    o.threads = 1;
    cm_embedder *big = cm_embedder_open(path, &o, &err);
    o.batch = 1;
    cm_embedder *one = cm_embedder_open(path, &o, &err);
    CHECK(big && one);
    if (!big || !one) { fprintf(stderr, "%s\n", err.msg); return; }
    size_t dim = cm_embedder_dim(big);
    CHECK(dim == 32);
    float *a = calloc(n * dim, sizeof *a), *b = calloc(n * dim, sizeof *b), *c = calloc(n * dim, sizeof *c);
    CHECK(cm_embedder_embed(big, (const char *const *)texts, lens, n, 0, a, &err) == 0);
    CHECK(cm_embedder_embed(one, (const char *const *)texts, lens, n, 0, b, &err) == 0);
    for (size_t i = 0; i < n; i++) /* each text alone */
        CHECK(cm_embedder_embed(big, (const char *const *)&texts[i], &lens[i], 1, 0, c + i * dim, &err) == 0);
    double worst = 0;
    for (size_t i = 0; i < n * dim; i++) {
        worst = fmax(worst, fabs(a[i] - b[i]));
        worst = fmax(worst, fabs(a[i] - c[i]));
    }
    CHECK(worst < 1e-6);
    for (size_t i = 0; i < n; i++) { /* unit length */
        double s = 0;
        for (size_t d = 0; d < dim; d++) s += (double)a[i * dim + d] * a[i * dim + d];
        CHECK(fabs(s - 1) < 1e-5);
    }
    /* a query differs from the same text as a document only with a prefix */
    float q[32];
    CHECK(cm_embedder_embed(big, (const char *const *)texts, lens, 1, 1, q, &err) == 0);
    double gap = 0;
    for (size_t d = 0; d < dim; d++) gap = fmax(gap, fabs(q[d] - a[d]));
    int differs = gap > 1e-3;
    CHECK(differs == !strcmp(model, "tiny-bert-cls"));
    free(a);
    free(b);
    free(c);
    free_lines(texts, n);
    cm_embedder_free(big);
    cm_embedder_free(one);
}

/* ---- broken folders: a copy of tiny-bert-cls with one file changed ---- */

static void copy_file(const char *from, const char *to)
{
    cm_buf b;
    cm_buf_init(&b);
    cm_err err;
    CHECK(cm_read_file(from, &b, 1 << 24, &err) == 0);
    FILE *f = fopen(to, "wb");
    fwrite(b.data, 1, b.len, f);
    fclose(f);
    cm_buf_free(&b);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static const char *const FILES[] = {"config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"};

static void make_copy(const char *dir)
{
    mkdir(dir, 0755);
    char from[512], to[512];
    for (size_t i = 0; i < 4; i++) {
        snprintf(from, sizeof from, FIXTURES "/tiny-bert-cls/%s", FILES[i]);
        snprintf(to, sizeof to, "%s/%s", dir, FILES[i]);
        copy_file(from, to);
    }
}

static void expect_refused(const char *dir, const char *needle1, const char *needle2)
{
    cm_err err;
    err.msg[0] = 0;
    cm_bert *m = cm_bert_load(dir, &err);
    CHECK(m == NULL);
    cm_bert_free(m);
    CHECK_CONTAINS(err.msg, needle1);
    CHECK_CONTAINS(err.msg, needle2);
}

static void check_broken(void)
{
    char dir[] = "/tmp/cm_test_bert_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char m[600], p[700];
    snprintf(m, sizeof m, "%s/m", dir);

    /* a shape that disagrees with config.json */
    make_copy(m);
    snprintf(p, sizeof p, "%s/config.json", m);
    cm_buf cfg;
    cm_buf_init(&cfg);
    cm_err err;
    CHECK(cm_read_file(p, &cfg, 1 << 20, &err) == 0);
    char *at = strstr(cfg.data, "\"intermediate_size\": 64");
    CHECK(at != NULL);
    if (at) memcpy(at, "\"intermediate_size\": 65", 23);
    write_file(p, cfg.data);
    expect_refused(m, "model.safetensors", "intermediate.dense.weight' has shape [64, 32], config.json implies [65, 32]");

    /* an activation we do not compute */
    make_copy(m);
    if (at) memcpy(at, "\"intermediate_size\": 64", 23);
    char *act = strstr(cfg.data, "\"gelu\"");
    CHECK(act != NULL);
    if (act) memcpy(act, "\"relu\"", 6);
    write_file(p, cfg.data);
    expect_refused(m, "config.json", "hidden_act 'relu'");
    cm_buf_free(&cfg);

    /* a vocabulary larger than the embedding table */
    make_copy(m);
    snprintf(p, sizeof p, "%s/vocab.txt", m);
    FILE *f = fopen(p, "a");
    for (int i = 0; i < 10; i++) fprintf(f, "extra%d\n", i);
    fclose(f);
    expect_refused(m, "vocab.txt", "more than config.json's vocab_size");

    /* truncated weights */
    make_copy(m);
    snprintf(p, sizeof p, "%s/model.safetensors", m);
    CHECK(truncate(p, 50000) == 0);
    expect_refused(m, "model.safetensors", "");

    /* weights stored without the layers config.json asks for */
    make_copy(m);
    snprintf(p, sizeof p, "%s/config.json", m);
    cm_buf_init(&cfg);
    CHECK(cm_read_file(p, &cfg, 1 << 20, &err) == 0);
    char *layers = strstr(cfg.data, "\"num_hidden_layers\": 2");
    CHECK(layers != NULL);
    if (layers) layers[21] = '3';
    write_file(p, cfg.data);
    cm_buf_free(&cfg);
    expect_refused(m, "model.safetensors", "no tensor 'bert.encoder.layer.2.attention.self.query.weight'");

    /* no weights at all, and not a model folder */
    make_copy(m);
    snprintf(p, sizeof p, "%s/model.safetensors", m);
    unlink(p);
    expect_refused(m, "model.safetensors", "missing");
    expect_refused(dir, "config.json", "missing");

    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", m, FILES[i]);
        unlink(p);
    }
    rmdir(m);
    rmdir(dir);
}

int main(void)
{
    check_tokens("tiny-bert-cls");
    check_tokens("tiny-bert-mean");
    check_batching("tiny-bert-cls");
    check_batching("tiny-bert-mean");
    check_broken();
    CHECK_DONE();
}
