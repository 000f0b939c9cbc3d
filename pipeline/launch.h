/* launch.h -- `corpusmill launch slurm`: the pipeline as chained Slurm job
 * arrays (see launch.c). */
#ifndef CM_LAUNCH_H
#define CM_LAUNCH_H

extern const char cm_launch_usage[];

/* argv after "launch". Returns a CM_EXIT_* status. */
int cm_launch_main(int argc, char **argv);

#endif
