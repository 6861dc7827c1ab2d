/* Tandem — MIT licence. had: the HA daemon — getopt, config, daemonise, then the privsep processes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"
#include "ha/ha_conf.h"
#include "ha/proc.h"

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: had [-dnv] [-f file]\n"
	    "  -f file  config file (default /etc/tandem/had.conf)\n"
	    "  -n       check the config and exit; with -v print it normalised\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -v       verbose logging\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *conffile = "/etc/tandem/had.conf";
	struct conf_errors errs = { 0 };
	struct ha_conf conf;
	int ch, debug = 0, noaction = 0, verbose = 0, i, rv;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			conffile = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_procinit("had");
	log_init(1, LOG_DAEMON);
	log_setverbose(verbose);
	ha_conf_init(&conf);
	if (ha_conf_load(&conf, conffile, &errs) == -1) {
		for (i = 0; i < errs.n && i < CONF_MAX_ERRORS; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		if (errs.n > CONF_MAX_ERRORS)
			fprintf(stderr, "... and %d more errors\n", errs.n - CONF_MAX_ERRORS);
		fprintf(stderr, "%s: configuration rejected\n", conffile);
		ha_conf_free(&conf);
		return 1;
	}
	if (noaction) {
		if (verbose)
			ha_conf_print(&conf, stdout);
		fprintf(stderr, "configuration OK\n");
		ha_conf_free(&conf);
		return 0;
	}
	if (!debug) {
		log_init(0, LOG_DAEMON);
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	signal(SIGPIPE, SIG_IGN);
	rv = proc_start(&conf);
	ha_conf_free(&conf);
	return rv;
}
