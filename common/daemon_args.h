/* Tandem — MIT licence. The daemons' shared start: [-dnv] [-f file], config errors, detaching. */
#ifndef TANDEM_COMMON_DAEMON_ARGS_H
#define TANDEM_COMMON_DAEMON_ARGS_H

struct conf_errors;

struct daemon_args {
	const char	*name;		/* "collectord", "had", "monitord" */
	const char	*conffile;	/* -f, default /etc/tandem/<name>.conf */
	int		 debug;		/* -d: foreground, log to stderr */
	int		 noaction;	/* -n: check the config and exit */
	int		 verbose;	/* -v, counted */
};

/*
 * Parses `name [-dnv] [-f file]` (anything else: the usage on stderr and exit 2) and starts
 * logging to stderr as name at the given verbosity.
 */
void	daemon_args_parse(struct daemon_args *, const char *name, int argc, char *argv[]);
/* Prints the config errors (at most CONF_MAX_ERRORS, then a count) and the verdict. */
void	daemon_conf_rejected(const struct daemon_args *, const struct conf_errors *);
/* Unless -d: logs to syslog from now on and detaches (daemon(3) with nochdir). */
void	daemon_detach(const struct daemon_args *, int nochdir);

#endif
