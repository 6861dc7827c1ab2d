/* Tandem — MIT licence. tandem-agent: thin main dispatching to the send, tail and simulate commands. */
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"
#include "common/log.h"

static const struct {
	const char	*name;
	int		(*run)(int, char **);
	const char	*what;
} cli_cmds[] = {
	{ "send",	cmd_send,	"ship JSON-line events read from stdin" },
	{ "tail",	cmd_tail,	"ship lines appended to log files, across rotation" },
	{ "simulate",	cmd_simulate,	"many simulated MES applications, paced, with figures" },
};

static int
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: tandem-agent COMMAND [options]   (COMMAND -h for its options)\n");
	for (i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		fprintf(stderr, "  %-9s %s\n", cli_cmds[i].name, cli_cmds[i].what);
	return 2;
}

int
main(int argc, char **argv)
{
	size_t i;

	log_init(1, 0);
	log_procinit("tandem-agent");
	if (argc < 2)
		return usage();
	for (i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++)
		if (strcmp(argv[1], cli_cmds[i].name) == 0)
			return cli_cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "tandem-agent: unknown command '%s'\n", argv[1]);
	return usage();
}
