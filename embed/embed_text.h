/* embed_text.h -- `corpusmill embed-text`: embeds the lines of stdin, for
 * direct use and for checking a model by hand. */
#ifndef CM_EMBED_TEXT_H
#define CM_EMBED_TEXT_H

extern const char cm_embed_text_usage[];

/* argv after the command name. Returns a CM_EXIT_* status. */
int cm_embed_text_main(int argc, char **argv);

#endif
