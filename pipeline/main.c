/* main.c -- the corpusmill executable. */
#include "cli.h"

int main(int argc, char **argv) { return cm_cli_main(argc, argv); }
