/* registry.c -- the list of every filter `clean` can run. Adding a filter is
 * one new file under filters/ and one line here. */
#include "filter.h"

#include <string.h>

extern const cm_filter cm_filter_normalize;
extern const cm_filter cm_filter_length;
extern const cm_filter cm_filter_gopher_quality;
extern const cm_filter cm_filter_gopher_repetition;
extern const cm_filter cm_filter_c4;
extern const cm_filter cm_filter_fineweb;
extern const cm_filter cm_filter_signal;
extern const cm_filter cm_filter_language;
extern const cm_filter cm_filter_pii;
extern const cm_filter cm_filter_flagged_words;
extern const cm_filter cm_filter_quality_model;

const cm_filter *const cm_filters[] = {
    &cm_filter_normalize,
    &cm_filter_length,
    &cm_filter_gopher_quality,
    &cm_filter_gopher_repetition,
    &cm_filter_c4,
    &cm_filter_fineweb,
    &cm_filter_signal,
    &cm_filter_language,
    &cm_filter_pii,
    &cm_filter_flagged_words,
    &cm_filter_quality_model,
    NULL,
};

const cm_filter *cm_filter_find(const char *name)
{
    for (size_t i = 0; cm_filters[i]; i++)
        if (strcmp(cm_filters[i]->name, name) == 0) return cm_filters[i];
    return NULL;
}
