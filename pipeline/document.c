/* document.c -- lifetime of the reusable per-worker cm_doc. */
#include "document.h"

void cm_doc_init(cm_doc *d)
{
    d->cache = NULL;
    d->cache_ops = NULL;
    cm_json_record_init(&d->json);
    cm_buf_init(&d->text);
    cm_buf_init(&d->scratch);
    cm_buf_init(&d->meta);
    cm_doc_reset(d);
}

void cm_doc_free(cm_doc *d)
{
    cm_json_record_free(&d->json);
    cm_buf_free(&d->text);
    cm_buf_free(&d->scratch);
    cm_buf_free(&d->meta);
    if (d->cache && d->cache_ops && d->cache_ops->free) d->cache_ops->free(d->cache);
    d->cache = NULL;
}

void cm_doc_reset(cm_doc *d)
{
    d->origin = NULL;
    d->line = 0;
    d->raw = NULL;
    d->raw_len = 0;
    d->is_json = 0;
    d->json.n_members = 0;
    d->text_member = -1;
    d->id_member = -1;
    d->text_key = NULL;
    d->synth_id = NULL;
    cm_buf_clear(&d->text);
    cm_buf_clear(&d->scratch);
    cm_buf_clear(&d->meta);
    d->text_changed = 0;
    d->text_added = 0;
    d->utf8_replaced = 0;
    d->drop_filter = NULL;
    d->drop_rule = NULL;
    if (d->cache && d->cache_ops && d->cache_ops->reset) d->cache_ops->reset(d->cache);
}

void cm_doc_swap_text(cm_doc *d)
{
    cm_buf t = d->text;
    d->text = d->scratch;
    d->scratch = t;
    cm_buf_clear(&d->scratch);
    d->text_changed = 1;
    if (d->cache && d->cache_ops && d->cache_ops->text_changed) d->cache_ops->text_changed(d->cache);
}
