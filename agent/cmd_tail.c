/* Tandem — MIT licence. tandem-agent tail: log file lines to the collector, across rotation. */
#include <stdio.h>

#include "agent/cli.h"

int
cmd_tail(int argc, char **argv)
{
	fprintf(stderr, "tandem-agent tail: not yet\n");
	return 2;
}
