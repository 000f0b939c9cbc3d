// fasttext_wrap.cc -- the one C++ file wrapping fastText (Debian
// libfasttext-dev 0.9.2, MIT) behind the C functions of fasttext_wrap.h.
//
// The loader is fastText's own, fed through a stream that guards it: its
// dictionary reader loops on in.get() until a NUL byte, so a truncated file
// would loop forever at EOF. Past the file's end the stream yields zero
// bytes (which end those loops) for a while and then throws; a load that
// needed any of them is refused as truncated. A file whose sizes are damaged
// may still make the library allocate what the sizes say (std::bad_alloc is
// caught); the loader is not fuzzed for that reason: it is the library's,
// its sizes are trusted by design, and corpusmill only loads model files the
// user names in a config.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <istream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <fasttext/fasttext.h>

extern "C" {
#include "fasttext_wrap.h"
}

struct cm_fasttext {
    fasttext::FastText ft;
};

namespace {

const int32_t FASTTEXT_MAGIC = 793712314; // fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32
const int32_t FASTTEXT_VERSION = 12;       // the version 0.9.2 writes and reads

// A read buffer over a FILE that pads the end with NULs, then throws.
class guarded_buf : public std::streambuf {
  public:
    explicit guarded_buf(FILE *f) : f_(f) {}
    bool used_padding() const { return padded_ > 0; }
    bool at_end()
    {
        if (gptr() < egptr()) return false;
        int c = std::fgetc(f_);
        return c == EOF;
    }

  protected:
    int_type underflow() override
    {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        size_t n = std::fread(buf_, 1, sizeof buf_, f_);
        if (n == 0) {
            if (padded_ >= (1u << 20)) throw std::runtime_error("the file ends inside the model (truncated)");
            std::memset(buf_, 0, sizeof buf_);
            padded_ += sizeof buf_;
            n = sizeof buf_;
        }
        setg(buf_, buf_, buf_ + n);
        return traits_type::to_int_type(*gptr());
    }

  private:
    FILE *f_;
    char buf_[1 << 16] = {};
    size_t padded_ = 0;
};

void set_msg(char *msg, size_t cap, const std::string &s)
{
    if (cap) std::snprintf(msg, cap, "%s", s.c_str());
}

} // namespace

extern "C" cm_fasttext *cm_fasttext_load(const char *path, char *msg, size_t msg_cap)
{
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        set_msg(msg, msg_cap, std::string(path) + ": " + std::strerror(errno));
        return nullptr;
    }
    int32_t head[2] = {0, 0};
    if (std::fread(head, sizeof head, 1, f) != 1 || head[0] != FASTTEXT_MAGIC) {
        std::fclose(f);
        set_msg(msg, msg_cap, std::string(path) + ": not a fastText model (no fastText magic number)");
        return nullptr;
    }
    if (head[1] != FASTTEXT_VERSION) { // 11 (2016) would need the library's private version fix-up
        std::fclose(f);
        set_msg(msg, msg_cap, std::string(path) + ": fastText model version " + std::to_string(head[1]) +
                                  ", this build reads version 12 (fastText 0.2 and later)");
        return nullptr;
    }
    cm_fasttext *m = nullptr;
    try {
        guarded_buf buf(f);
        std::istream in(&buf);
        in.exceptions(std::ios::badbit); // the guard's throw reaches us
        m = new cm_fasttext(); // value-initialized: zeroed, so the library's unset version is 0, not 11
        m->ft.loadModel(in);   // the stream past the magic and version, as loadModel(filename) leaves it
        if (buf.used_padding() || in.fail()) throw std::runtime_error("the file ends inside the model (truncated)");
        if (!buf.at_end()) throw std::runtime_error("bytes past the end of the model (damaged)");
        if (m->ft.getArgs().model != fasttext::model_name::sup)
            throw std::runtime_error("a word-vector model, not a classifier (train it with `supervised`)");
        if (m->ft.getDictionary()->nlabels() < 1) throw std::runtime_error("a model without labels");
    } catch (const std::exception &e) {
        delete m;
        m = nullptr;
        set_msg(msg, msg_cap, std::string(path) + ": damaged fastText model: " + e.what());
    }
    std::fclose(f);
    return m;
}

extern "C" void cm_fasttext_free(cm_fasttext *m) { delete m; }

extern "C" int cm_fasttext_has_label(const cm_fasttext *m, const char *label)
{
    return m->ft.getLabelId(label) >= 0 ? 1 : 0;
}

namespace {
bool predict(const cm_fasttext *m, const char *line, size_t len, std::vector<std::pair<fasttext::real, std::string>> &out)
{
    try {
        std::string s(line, len);
        s.push_back('\n');
        std::istringstream in(s);
        return m->ft.predictLine(in, out, -1, 0.0);
    } catch (const std::exception &) {
        out.clear();
        return false;
    }
}
} // namespace

extern "C" double cm_fasttext_prob(const cm_fasttext *m, const char *line, size_t len, const char *label)
{
    std::vector<std::pair<fasttext::real, std::string>> p;
    predict(m, line, len, p);
    for (const auto &x : p)
        if (x.second == label) return x.first;
    return 0;
}

extern "C" int cm_fasttext_top(const cm_fasttext *m, const char *line, size_t len, char *label, size_t label_cap,
                               double *prob)
{
    std::vector<std::pair<fasttext::real, std::string>> p;
    predict(m, line, len, p);
    if (p.empty()) return -1;
    std::snprintf(label, label_cap, "%s", p[0].second.c_str());
    *prob = p[0].first;
    return 0;
}

extern "C" int cm_fasttext_train(const char *input, const char *out, const cm_fasttext_train_opts *o, char *msg,
                                 size_t msg_cap)
{
    try {
        fasttext::Args a;
        a.input = input;
        a.output = out;
        a.model = fasttext::model_name::sup; // `fasttext supervised`'s defaults
        a.loss = fasttext::loss_name::softmax;
        a.minCount = 1;
        a.minn = 0;
        a.maxn = 0;
        a.lr = o->lr > 0 ? o->lr : 0.1;
        a.epoch = o->epochs;
        a.wordNgrams = o->ngrams;
        a.dim = o->dim;
        a.thread = o->threads;
        a.seed = o->seed;
        a.bucket = o->ngrams > 1 ? o->bucket : 0;
        a.verbose = 0;
        fasttext::FastText ft;
        ft.train(a);
        ft.saveModel(out);
        return 0;
    } catch (const std::exception &e) {
        set_msg(msg, msg_cap, std::string("fastText training on ") + input + ": " + e.what());
        return -1;
    }
}
