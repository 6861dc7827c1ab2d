/* Tandem — MIT licence. The daemons' shared start: [-dnv] [-f file], config errors, detaching. */
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/daemon_args.h"
#include "common/log.h"

static __attribute__((noreturn)) void
usage(const char *name)
{
	fprintf(stderr, "usage: %s [-dnv] [-f file]\n"
	    "  -f file  config file (default /etc/tandem/%s.conf)\n"
	    "  -n       check the config and exit; with -v print it normalised\n"
	    "  -d       stay in the foreground and log to stderr\n"
	    "  -v       verbose logging\n", name, name);
	exit(2);
}

void
daemon_args_parse(struct daemon_args *a, const char *name, int argc, char *argv[])
{
	static char deflt[256];
	int ch;

	snprintf(deflt, sizeof(deflt), "/etc/tandem/%s.conf", name);
	a->name = name;
	a->conffile = deflt;
	a->debug = a->noaction = a->verbose = 0;
	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			a->debug = 1;
			break;
		case 'f':
			a->conffile = optarg;
			break;
		case 'n':
			a->noaction = 1;
			break;
		case 'v':
			a->verbose++;
			break;
		default:
			usage(name);
		}
	}
	if (optind != argc)
		usage(name);
	log_procinit(name);
	log_init(1, LOG_DAEMON);
	log_setverbose(a->verbose);
}

void
daemon_conf_rejected(const struct daemon_args *a, const struct conf_errors *errs)
{
	int i;

	for (i = 0; i < errs->n && i < CONF_MAX_ERRORS; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	if (errs->n > CONF_MAX_ERRORS)
		fprintf(stderr, "... and %d more errors\n", errs->n - CONF_MAX_ERRORS);
	fprintf(stderr, "%s: configuration rejected\n", a->conffile);
}

void
daemon_detach(const struct daemon_args *a, int nochdir)
{
	if (a->debug)
		return;
	log_init(0, LOG_DAEMON);
	if (daemon(nochdir, 0) == -1)
		fatal("daemon");
}
