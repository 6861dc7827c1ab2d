/* Tandem — MIT licence. tandem-agent send: JSON-line events from stdin to the collector. */
#include <stdio.h>

#include "agent/cli.h"

int
cmd_send(int argc, char **argv)
{
	fprintf(stderr, "tandem-agent send: not yet\n");
	return 2;
}
