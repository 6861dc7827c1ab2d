/* Tandem — MIT licence. had: the HA daemon — getopt, config, daemonise, then the privsep processes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "common/daemon_args.h"
#include "common/log.h"
#include "ha/ha_conf.h"
#include "ha/proc.h"

int
main(int argc, char *argv[])
{
	struct daemon_args args;
	struct conf_errors errs = { 0 };
	struct ha_conf conf;
	int rv;

	daemon_args_parse(&args, "had", argc, argv);
	ha_conf_init(&conf);
	if (ha_conf_load(&conf, args.conffile, &errs) == -1) {
		daemon_conf_rejected(&args, &errs);
		ha_conf_free(&conf);
		return 1;
	}
	if (args.noaction) {
		if (args.verbose)
			ha_conf_print(&conf, stdout);
		fprintf(stderr, "configuration OK\n");
		ha_conf_free(&conf);
		return 0;
	}
	daemon_detach(&args, 0);
	signal(SIGPIPE, SIG_IGN);
	rv = proc_start(&conf);
	ha_conf_free(&conf);
	return rv;
}
