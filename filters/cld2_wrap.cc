// cld2_wrap.cc -- the one C++ file wrapping CLD2 (Compact Language Detector
// 2, Debian libcld2) behind a C function for filters/language.c.
#include <cstdio>
#include <cld2/public/compact_lang_det.h>

extern "C" {
#include "cld2_wrap.h"
}

extern "C" int cm_cld2_detect(const char *text, int len, char *code, int code_cap, int *percent, int *reliable)
{
    CLD2::Language lang3[3];
    int percent3[3];
    double score3[3];
    int text_bytes = 0;
    bool is_reliable = false;
    CLD2::Language lang = CLD2::ExtDetectLanguageSummary(text, len, true, nullptr, 0, CLD2::UNKNOWN_LANGUAGE, lang3,
                                                         percent3, score3, &text_bytes, &is_reliable);
    std::snprintf(code, (size_t)code_cap, "%s", CLD2::LanguageCode(lang));
    *percent = percent3[0];
    *reliable = is_reliable ? 1 : 0;
    return lang == CLD2::UNKNOWN_LANGUAGE ? 0 : 1;
}
