/* layout.c -- the paths of the output directory (see layout.h). */
#include "layout.h"

#include <stdio.h>

cm_path cm_done_dir(const char *out, const char *marker)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/_done/%s", out, marker);
    return p;
}

cm_path cm_marker_path(const char *out, const char *marker, int task)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/_done/%s/%05d", out, marker, task);
    return p;
}

cm_path cm_claim_path(const char *out, const char *marker)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/_done/%s/_run.json", out, marker);
    return p;
}

cm_path cm_inputs_path(const char *out)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/_done/clean/_inputs.tsv", out);
    return p;
}

cm_path cm_stats_path(const char *out, const char *name, int task)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/stats/%s-%05d.json", out, name, task);
    return p;
}

cm_path cm_out_dir(const char *out, const char *sub)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/%s", out, sub);
    return p;
}

cm_path cm_manifest_path(const char *out, const char *sub)
{
    cm_path p;
    snprintf(p.s, sizeof p.s, "%s/%s/manifest.json", out, sub);
    return p;
}

cm_part_prefix cm_part_prefix_of(int task)
{
    cm_part_prefix p;
    snprintf(p.s, sizeof p.s, "part-%05d", task);
    return p;
}
