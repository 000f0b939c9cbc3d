// json_simdjson.cc -- the one C++ file wrapping simdjson behind json.h.
// On Demand parsing is lazy; we walk every value so that a record is only
// accepted when all of it is valid JSON, and we note raw member spans so that
// unknown fields pass through unchanged.
#include "json.h"

#include <simdjson.h>

#include <cstring>
#include <string>
#include <vector>

using namespace simdjson;

struct cm_json_parser {
    ondemand::parser parser;
};

extern "C" cm_json_parser *cm_json_parser_create(void)
{
    try {
        return new cm_json_parser();
    } catch (...) {
        return nullptr;
    }
}

extern "C" void cm_json_parser_free(cm_json_parser *p) { delete p; }

extern "C" void cm_json_record_init(cm_json_record *r)
{
    r->members = nullptr;
    r->n_members = r->cap = 0;
    cm_buf_init(&r->strings);
}

extern "C" void cm_json_record_free(cm_json_record *r)
{
    free(r->members);
    cm_buf_free(&r->strings);
    cm_json_record_init(r);
}

static cm_json_member *add_member(cm_json_record *r)
{
    if (r->n_members == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->members = (cm_json_member *)cm_realloc(r->members, r->cap * sizeof *r->members);
    }
    cm_json_member *m = &r->members[r->n_members++];
    std::memset(m, 0, sizeof *m);
    return m;
}

// Strict JSON number grammar, for integers too large for a 64-bit type, which
// simdjson 3.0 reports as NUMBER_ERROR although they are valid JSON.
static bool is_json_number(std::string_view s)
{
    size_t i = 0, n = s.size();
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) n--;
    if (i < n && s[i] == '-') i++;
    if (i >= n) return false;
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    else return false;
    if (i < n && s[i] == '.') {
        i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == d) return false;
    }
    return i == n;
}

// Validates a value completely. Strings are unescaped into `str` when it is
// not null (top-level members); nested strings are validated and dropped.
static error_code walk(ondemand::value v, int depth, cm_json_type *type_out, std::string_view *str)
{
    if (depth > 512) return DEPTH_ERROR;
    ondemand::json_type t;
    error_code e = v.type().get(t);
    if (e) return e;
    switch (t) {
    case ondemand::json_type::array: {
        if (type_out) *type_out = CM_JSON_ARRAY;
        ondemand::array a;
        if ((e = v.get_array().get(a))) return e;
        for (auto el : a) {
            ondemand::value ev;
            if ((e = el.get(ev))) return e;
            if ((e = walk(ev, depth + 1, nullptr, nullptr))) return e;
        }
        return SUCCESS;
    }
    case ondemand::json_type::object: {
        if (type_out) *type_out = CM_JSON_OBJECT;
        ondemand::object o;
        if ((e = v.get_object().get(o))) return e;
        for (auto field : o) {
            std::string_view k;
            if ((e = field.unescaped_key().get(k))) return e;
            ondemand::value fv;
            if ((e = field.value().get(fv))) return e;
            if ((e = walk(fv, depth + 1, nullptr, nullptr))) return e;
        }
        return SUCCESS;
    }
    case ondemand::json_type::number: {
        if (type_out) *type_out = CM_JSON_NUMBER;
        std::string_view raw = v.raw_json_token();
        ondemand::number num;
        e = v.get_number().get(num);
        if (e && !is_json_number(raw)) return e;
        return SUCCESS;
    }
    case ondemand::json_type::string: {
        if (type_out) *type_out = CM_JSON_STRING;
        std::string_view s;
        if ((e = v.get_string().get(s))) return e;
        if (str) *str = s;
        return SUCCESS;
    }
    case ondemand::json_type::boolean: {
        if (type_out) *type_out = CM_JSON_BOOL;
        bool b;
        return v.get_bool().get(b);
    }
    case ondemand::json_type::null: {
        if (type_out) *type_out = CM_JSON_NULL;
        bool isnull;
        if ((e = v.is_null().get(isnull))) return e;
        return isnull ? SUCCESS : INCORRECT_TYPE;
    }
    }
    return TAPE_ERROR;
}

static size_t trim_right(const char *base, size_t start, size_t end)
{
    while (end > start && (base[end - 1] == ' ' || base[end - 1] == '\t' || base[end - 1] == '\n' ||
                           base[end - 1] == '\r'))
        end--;
    return end;
}

static int fail(cm_err *err, ondemand::document &doc, const char *line, error_code e)
{
    const char *loc = nullptr;
    long col = 0;
    if (!doc.current_location().get(loc) && loc >= line) col = (long)(loc - line) + 1;
    if (col > 0) cm_errorf(err, "invalid JSON at column %ld: %s", col, error_message(e));
    else cm_errorf(err, "invalid JSON: %s", error_message(e));
    return CM_JSON_INVALID;
}

extern "C" int cm_json_parse_record(cm_json_parser *p, const char *line, size_t len,
                                    cm_json_record *rec, cm_err *err)
{
    rec->n_members = 0;
    cm_buf_clear(&rec->strings);
    ondemand::document doc;
    error_code e = p->parser.iterate(line, len, len + SIMDJSON_PADDING).get(doc);
    if (e == UTF8_ERROR) return CM_JSON_BAD_UTF8;
    if (e) return cm_errorf(err, "invalid JSON: %s", error_message(e)), CM_JSON_INVALID;
    ondemand::object obj;
    e = doc.get_object().get(obj);
    if (e == UTF8_ERROR) return CM_JSON_BAD_UTF8;
    if (e == INCORRECT_TYPE) return cm_errorf(err, "record is not a JSON object"), CM_JSON_INVALID;
    if (e) return fail(err, doc, line, e);
    for (auto field : obj) {
        ondemand::raw_json_string rawkey;
        if ((e = field.key().get(rawkey))) return fail(err, doc, line, e);
        std::string_view key;
        if ((e = field.unescaped_key().get(key))) return fail(err, doc, line, e);
        ondemand::value v;
        if ((e = field.value().get(v))) return fail(err, doc, line, e);
        std::string_view tok = v.raw_json_token();
        size_t value_start = (size_t)(tok.data() - line);
        cm_json_type type = CM_JSON_NULL;
        std::string_view str;
        if ((e = walk(v, 1, &type, &str))) return fail(err, doc, line, e);
        size_t value_end;
        if (type == CM_JSON_OBJECT || type == CM_JSON_ARRAY) {
            const char *loc = nullptr;
            if ((e = doc.current_location().get(loc))) return fail(err, doc, line, e);
            value_end = (size_t)(loc - line);
        } else {
            value_end = value_start + tok.size();
        }
        value_end = trim_right(line, value_start, value_end);

        cm_json_member *m = add_member(rec);
        m->raw_start = (size_t)(rawkey.raw() - line) - 1;
        m->raw_end = value_end;
        m->value_start = value_start;
        m->value_end = value_end;
        m->type = type;
        m->key_off = rec->strings.len;
        m->key_len = key.size();
        cm_buf_append(&rec->strings, key.data(), key.size());
        cm_buf_append_char(&rec->strings, 0);
        if (type == CM_JSON_STRING) {
            m->str_off = rec->strings.len;
            m->str_len = str.size();
            cm_buf_append(&rec->strings, str.data(), str.size());
            cm_buf_append_char(&rec->strings, 0);
        }
    }
    // In bounds after the closing brace means something follows it.
    const char *loc = nullptr;
    if (!doc.current_location().get(loc)) {
        cm_errorf(err, "invalid JSON at column %ld: content after the closing brace",
                  (long)(loc - line) + 1);
        return CM_JSON_INVALID;
    }
    return 0;
}

extern "C" long cm_json_find(const cm_json_record *rec, const char *key, int *dupes)
{
    long found = -1;
    int count = 0;
    size_t klen = std::strlen(key);
    for (size_t i = 0; i < rec->n_members; i++) {
        const cm_json_member *m = &rec->members[i];
        if (m->key_len == klen && std::memcmp(rec->strings.data + m->key_off, key, klen) == 0) {
            if (found < 0) found = (long)i;
            count++;
        }
    }
    if (dupes) *dupes = count;
    return found;
}

extern "C" const char *cm_json_key(const cm_json_record *rec, const cm_json_member *m)
{
    return rec->strings.data + m->key_off;
}

extern "C" const char *cm_json_str(const cm_json_record *rec, const cm_json_member *m)
{
    return rec->strings.data + m->str_off;
}

extern "C" int cm_json_nested_string(cm_json_parser *p, const char *text, size_t len, const char *outer,
                                     const char *inner, char *out, size_t cap)
{
    ondemand::document doc;
    if (p->parser.iterate(text, len, len + SIMDJSON_PADDING).get(doc)) return -1;
    std::string_view s;
    if (doc.find_field_unordered(outer).find_field_unordered(inner).get_string().get(s)) return -1;
    if (s.size() >= cap) return -1;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = 0;
    return 0;
}

extern "C" int cm_json_valid_utf8(const char *s, size_t n) { return simdjson::validate_utf8(s, n) ? 1 : 0; }

// ---- visitor over a small document (DOM API: simple and complete) ----

struct visit_ctx {
    cm_json_visit_fn fn;
    void *user;
    std::vector<std::string> path;
};

static int visit(visit_ctx &c, dom::element el)
{
    std::vector<const char *> p;
    auto call = [&](cm_json_type t, double num, const char *s, size_t n) {
        p.clear();
        for (auto &k : c.path) p.push_back(k.c_str());
        return c.fn(c.user, p.data(), (int)p.size(), t, num, s, n);
    };
    switch (el.type()) {
    case dom::element_type::OBJECT:
        for (auto field : dom::object(el)) {
            c.path.emplace_back(field.key);
            int r = visit(c, field.value);
            c.path.pop_back();
            if (r) return r;
        }
        return 0;
    case dom::element_type::ARRAY: {
        size_t i = 0;
        for (auto child : dom::array(el)) {
            c.path.emplace_back(std::to_string(i++));
            int r = visit(c, child);
            c.path.pop_back();
            if (r) return r;
        }
        return 0;
    }
    case dom::element_type::STRING: {
        std::string_view s = el.get_string().value_unsafe();
        return call(CM_JSON_STRING, 0, s.data(), s.size());
    }
    case dom::element_type::INT64: return call(CM_JSON_NUMBER, (double)el.get_int64().value_unsafe(), nullptr, 0);
    case dom::element_type::UINT64: return call(CM_JSON_NUMBER, (double)el.get_uint64().value_unsafe(), nullptr, 0);
    case dom::element_type::DOUBLE: return call(CM_JSON_NUMBER, el.get_double().value_unsafe(), nullptr, 0);
    case dom::element_type::BOOL: return call(CM_JSON_BOOL, el.get_bool().value_unsafe() ? 1 : 0, nullptr, 0);
    case dom::element_type::NULL_VALUE: return call(CM_JSON_NULL, 0, nullptr, 0);
    }
    return 0;
}

extern "C" int cm_json_visit(const char *text, size_t len, cm_json_visit_fn fn, void *user, cm_err *err)
{
    try {
        dom::parser parser;
        padded_string ps(text, len);
        dom::element root;
        error_code e = parser.parse(ps).get(root);
        if (e) return cm_errorf(err, "invalid JSON: %s", error_message(e));
        visit_ctx c{fn, user, {}};
        visit(c, root);
        return 0;
    } catch (const std::exception &ex) {
        return cm_errorf(err, "JSON: %s", ex.what());
    }
}
