/* pii.c -- personal information replaced by typed placeholders, with PCRE2
 * (JIT) regular expressions and checks where a number has one:
 *   email       user@example.com                         -> <EMAIL>
 *   ip          IPv4 and IPv6 addresses                  -> <IP_ADDRESS>
 *   phone       Chinese mobiles (+86) 1[3-9]xxxxxxxxx and
 *               international +CC numbers, (xxx) xxx-xxxx -> <PHONE>
 *   cn_id       Chinese resident ID numbers: 18 digits (or X) with a valid
 *               ISO 7064 MOD 11-2 check digit and a plausible birth date -> <ID_NUMBER>
 *   bank_card   13-19 digits passing the Luhn check      -> <BANK_CARD>
 * Counts per type go to the signals (pii_email, pii_ip, ...). The document is
 * always kept; `replace: false` only counts. */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include "filter.h"
#include "signals.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULTS[] =
    "pii:\n"
    "  types: [email, ip, phone, cn_id, bank_card]\n"
    "  replace: true                # false: count only\n"
    "  jit: true                    # PCRE2's JIT compiler (false: its interpreter; JIT code confuses valgrind)\n";

enum { T_EMAIL, T_CN_ID, T_BANK, T_IP, T_PHONE, T_COUNT };
static const char *const TYPE_NAMES[T_COUNT] = {"email", "cn_id", "bank_card", "ip", "phone"};
static const char *const PLACEHOLDER[T_COUNT] = {"<EMAIL>", "<ID_NUMBER>", "<BANK_CARD>", "<IP_ADDRESS>", "<PHONE>"};
static const char *const SIGNAL[T_COUNT] = {"pii_email", "pii_cn_id", "pii_bank_card", "pii_ip", "pii_phone"};
/* applied in this order: the longest digit runs first */
static const char *const PATTERN[T_COUNT] = {
    "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
    "(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])",
    "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])",
    "(?<![0-9.])(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?![0-9])"
    "|(?<![0-9A-Fa-f:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})(?![0-9A-Fa-f:])",
    "(?<![0-9])(?:\\+?86[- ]?)?1[3-9][0-9]{9}(?![0-9])"
    "|\\+[1-9][0-9]{0,2}[ -]?(?:\\([0-9]{1,4}\\)[ -]?)?[0-9]{2,4}(?:[ -]?[0-9]{2,4}){1,3}(?![0-9])"
    "|\\([0-9]{3}\\) ?[0-9]{3}-[0-9]{4}(?![0-9])",
};

typedef struct pii {
    int enabled[T_COUNT];
    int replace;
    int jit;
    pcre2_code *re[T_COUNT];
    pcre2_match_data *md;
} pii;

static void destroy(void *self)
{
    pii *p = self;
    if (!p) return;
    for (int t = 0; t < T_COUNT; t++)
        if (p->re[t]) pcre2_code_free(p->re[t]);
    if (p->md) pcre2_match_data_free(p->md);
    free(p);
}

static void *create(const cm_conf *opt, cm_err *err)
{
    static const char *const known[] = {"types", "replace", "jit", NULL};
    pii *p = cm_calloc(1, sizeof *p);
    p->replace = 1;
    p->jit = 1;
    char **types = NULL;
    size_t nt = 0;
    if (cm_conf_check_keys(opt, "filter pii", known, err) || cm_conf_bool(opt, "replace", &p->replace, err) ||
        cm_conf_bool(opt, "jit", &p->jit, err) ||
        cm_conf_strings(opt, "types", &types, &nt, err))
        goto fail;
    if (!types) {
        for (int t = 0; t < T_COUNT; t++) p->enabled[t] = 1;
    } else {
        for (size_t i = 0; i < nt; i++) {
            int found = 0;
            for (int t = 0; t < T_COUNT; t++)
                if (!strcmp(types[i], TYPE_NAMES[t])) { p->enabled[t] = 1; found = 1; }
            if (!found) {
                cm_conf_error(err, cm_conf_get(opt, "types"), "unknown PII type '%s' (email, ip, phone, cn_id, bank_card)", types[i]);
                cm_conf_free_strings(types, nt);
                goto fail;
            }
        }
        cm_conf_free_strings(types, nt);
    }
    for (int t = 0; t < T_COUNT; t++) {
        if (!p->enabled[t]) continue;
        int ec;
        PCRE2_SIZE off;
        p->re[t] = pcre2_compile((PCRE2_SPTR)PATTERN[t], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_NO_UTF_CHECK, &ec, &off, NULL);
        if (!p->re[t]) { cm_errorf(err, "filter pii: cannot compile the %s pattern (PCRE2 error %d)", TYPE_NAMES[t], ec); goto fail; }
        if (p->jit) pcre2_jit_compile(p->re[t], PCRE2_JIT_COMPLETE); /* falls back to the interpreter when JIT is unavailable */
    }
    p->md = pcre2_match_data_create(4, NULL);
    return p;
fail:
    destroy(p);
    return NULL;
}

/* ISO 7064 MOD 11-2, as GB 11643-1999 defines the check digit. */
static int cn_id_valid(const char *s)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    int sum = 0;
    for (int i = 0; i < 17; i++) sum += (s[i] - '0') * w[i];
    char c = s[17] == 'x' ? 'X' : s[17];
    return check[sum % 11] == c;
}

static int luhn_valid(const char *s, size_t n)
{
    int digits[32], k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9') {
            if (k == 32) return 0;
            digits[k++] = s[i] - '0';
        }
    if (k < 13 || k > 19) return 0;
    int sum = 0;
    for (int i = 0; i < k; i++) {
        int d = digits[k - 1 - i];
        if (i % 2 == 1) { d *= 2; if (d > 9) d -= 9; }
        sum += d;
    }
    return sum % 10 == 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_hex(char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

/* Whether s holds `count` separators in a row, each between two characters
 * of the class and with only such characters from one to the next: the
 * shape "D.D.D.D" (digits, three dots) of every IPv4 match, "H:H:...:H"
 * (hex, seven colons) of a full IPv6 one. Looser than the pattern, never
 * stricter: a text without the shape has no match. */
static int has_chain(const char *s, size_t n, char sep, int (*in_class)(char), int count)
{
    const char *end = s + n, *prev = NULL;
    int chain = 0;
    for (const char *p = s; (p = memchr(p, sep, (size_t)(end - p))); p++) {
        if (p == s || p + 1 == end || !in_class(p[-1]) || !in_class(p[1])) { chain = 0; prev = NULL; continue; }
        const char *q = prev ? prev + 1 : p;
        while (q < p && in_class(*q)) q++;
        chain = prev && q == p ? chain + 1 : 1;
        if (chain >= count) return 1;
        prev = p;
    }
    return 0;
}

/* The shape of IPv6's compressed form: "H::H". */
static int has_double_colon(const char *s, size_t n)
{
    const char *end = s + n;
    for (const char *p = s; (p = cm_memmem(p, (size_t)(end - p), "::", 2)); p++)
        if (p > s && p + 2 < end && is_hex(p[-1]) && is_hex(p[2])) return 1;
    return 0;
}

/* What the number patterns need of a text: its longest run of digits (an
 * ID number needs 17, a mobile 11) and its most digits with at most one
 * space or hyphen between neighbours (a card needs 13), a '+' before a
 * digit 1-9 or a '(' before a digit (the other phone forms). */
typedef struct digit_shape {
    size_t run, chain;
    int plus, paren;
} digit_shape;

static digit_shape shape_of(const char *s, size_t n)
{
    digit_shape d = {0, 0, 0, 0};
    size_t run = 0, chain = 0, last = 0; /* last: the previous digit's offset, when seen */
    int seen = 0;
    size_t i = 0;
    while (i < n) {
#ifdef __SSE2__
        if (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
            int m = _mm_movemask_epi8(cm_bytes_in_range(v, '0', '9'));
            if (!m) { i += 16; continue; }
            i += (size_t)__builtin_ctz((unsigned)m); /* the next digit */
        }
#endif
        if (!is_digit(s[i])) { i++; continue; }
        if (seen && last + 1 == i) { run++; chain++; }
        else if (seen && last + 2 == i && (s[i - 1] == ' ' || s[i - 1] == '-')) { run = 1; chain++; }
        else { run = 1; chain = 1; }
        seen = 1;
        if (run > d.run) d.run = run;
        if (chain > d.chain) d.chain = chain;
        last = i++;
    }
    for (const char *p = s; (p = memchr(p, '+', n - (size_t)(p - s))) && !d.plus; p++)
        d.plus = p + 1 < s + n && p[1] >= '1' && p[1] <= '9';
    for (const char *p = s; (p = memchr(p, '(', n - (size_t)(p - s))) && !d.paren; p++)
        d.paren = p + 1 < s + n && is_digit(p[1]);
    return d;
}

/* A cheap test that the pattern could match at all (d: the text's digit
 * shape, for the number patterns). */
static int worth_trying(int t, const char *s, size_t n, const digit_shape *d)
{
    if (t == T_EMAIL) return memchr(s, '@', n) != NULL;
    if (t == T_IP)
        /* the pattern tries IPv6 at every hex letter: the whole text, for
         * any text with a "3.5" in it, until these shapes asked first */
        return has_chain(s, n, '.', is_digit, 3) || has_chain(s, n, ':', is_hex, 7) || has_double_colon(s, n);
    if (t == T_CN_ID) return d->run >= 17;
    if (t == T_BANK) return d->chain >= 13;
    return d->run >= 11 || d->plus || d->paren; /* T_PHONE */
}

static cm_verdict apply(void *self, cm_doc *doc)
{
    pii *p = self;
    digit_shape shape = {0, 0, 0, 0};
    int shape_known = 0; /* of the text as it is now: a replacement changes it */
    for (int t = 0; t < T_COUNT; t++) {
        if (!p->enabled[t]) continue;
        if (!shape_known && t != T_EMAIL && t != T_IP) {
            shape = shape_of(doc->text.data, doc->text.len);
            shape_known = 1;
        }
        if (!worth_trying(t, doc->text.data, doc->text.len, &shape)) continue;
        const char *s = doc->text.data;
        size_t len = doc->text.len, pos = 0, last = 0, count = 0;
        cm_buf *out = &doc->scratch;
        cm_buf_clear(out);
        while (pos <= len) {
            int rc = pcre2_match(p->re[t], (PCRE2_SPTR)s, len, pos, PCRE2_NO_UTF_CHECK, p->md, NULL);
            if (rc < 0) break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
            size_t a = ov[0], b = ov[1];
            int ok = 1;
            if (t == T_CN_ID) ok = cn_id_valid(s + a);
            else if (t == T_BANK) ok = luhn_valid(s + a, b - a);
            if (ok) {
                count++;
                cm_buf_append(out, s + last, a - last);
                cm_buf_append_str(out, PLACEHOLDER[t]);
                last = b;
            }
            pos = b > a ? b : a + 1;
        }
        if (count) {
            cm_signals_set_extra(doc, SIGNAL[t], (double)count);
            if (p->replace) {
                cm_buf_append(out, s + last, len - last);
                cm_doc_swap_text(doc);
                shape_known = 0;
            }
        }
    }
    return CM_KEEP;
}

const cm_filter cm_filter_pii = {
    .name = "pii",
    .summary = "emails, IP addresses, phone numbers, Chinese ID numbers and bank cards replaced by placeholders",
    .defaults = DEFAULTS,
    .create = create,
    .apply = apply,
    .destroy = destroy,
};
