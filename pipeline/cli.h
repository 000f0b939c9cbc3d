/* cli.h -- the command line: parses arguments and dispatches to stages. */
#ifndef CM_CLI_H
#define CM_CLI_H

/* Runs `corpusmill ARGS...`; returns the process exit status. */
int cm_cli_main(int argc, char **argv);

#endif
