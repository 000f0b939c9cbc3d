/* cld2_wrap.h -- C interface to CLD2 (see cld2_wrap.cc). */
#ifndef CM_CLD2_WRAP_H
#define CM_CLD2_WRAP_H

/* Detects the language of UTF-8 text: writes its code ("en", "zh",
 * "zh-Hant", "un" when unknown) to code, the percent of the text in it, and
 * whether CLD2 calls the result reliable. Returns 1 when a language was
 * found. */
int cm_cld2_detect(const char *text, int len, char *code, int code_cap, int *percent, int *reliable);

#endif
