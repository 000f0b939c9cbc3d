/* eval.h -- `corpusmill eval-retrieval`: recall@k, MRR and precision@5 of
 * each search mode on a QA set (see eval.c). */
#ifndef CM_EVAL_H
#define CM_EVAL_H

extern const char cm_eval_usage[];

/* argv after the command name. Returns a CM_EXIT_* status. */
int cm_eval_main(int argc, char **argv);

#endif
