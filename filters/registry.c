/* registry.c -- the list of every filter `clean` can run. Adding a filter is
 * one new file under filters/ and one line here. */
#include "filter.h"

#include <string.h>

extern const cm_filter cm_filter_normalize;

const cm_filter *const cm_filters[] = {
    &cm_filter_normalize,
    NULL,
};

const cm_filter *cm_filter_find(const char *name)
{
    for (size_t i = 0; cm_filters[i]; i++)
        if (strcmp(cm_filters[i]->name, name) == 0) return cm_filters[i];
    return NULL;
}
