/* Tandem — MIT licence. tandem-agent tail: log file lines to the collector, across rotation. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "agent/cli.h"
#include "agent/logtail.h"
#include "common/log.h"
#include "common/xalloc.h"

#define TAIL_POLL_MS	200
#define TAIL_MAX_FILES	256

struct tailrun {
	struct event_base	*base;
	struct tandem_agent	*ag;
	struct logtail		**files;
	unsigned		 nfiles;
	struct event		*poll, *stop, *deadline, *sigint, *sigterm;
	int			 stopping;
	double			 timeout_s;
	uint64_t		 refused;
};

static void
tail_usage(void)
{
	fprintf(stderr, "usage: tandem-agent tail -c HOST:PORT -a AGENT_ID -A APP [-t TOKEN] "
	    "[--duration S] [--from-start] [options] FILE...\n"
	    "  ships every line appended to each FILE as a log event (level guessed from\n"
	    "  words like ERROR, WARN); follows rename+recreate and truncation, polling\n"
	    "  every 200 ms.\n"
	    "  --duration S      stop after S seconds (default: until SIGINT/SIGTERM)\n"
	    "  --from-start      read files that exist at start from their beginning\n"
	    CLI_COMMON_USAGE);
}

static int
tail_emit(void *arg, const char *line, size_t len)
{
	struct tailrun *r = arg;

	if (tandem_agent_log(r->ag, 0, logtail_guess_level(line), line) == 0)
		return 0;
	if (errno == EAGAIN)
		return -1;		/* window full: the line waits for the next poll */
	log_warnx("dropping a line: %s", strerror(errno));
	return 0;
}

static void
tail_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tailrun *r = arg;
	unsigned i;

	for (i = 0; i < r->nfiles; i++)
		if (logtail_poll(r->files[i], tail_emit, r) == -1) {
			r->refused++;
			break;		/* the window is full for every file alike */
		}
}

static void
tail_flushed_cb(struct tandem_agent *ag, void *arg)
{
	struct tailrun *r = arg;

	event_base_loopexit(r->base, NULL);
}

/* Stops following; one last poll, then waits (bounded) for the acks. */
static void
tail_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tailrun *r = arg;
	struct timeval tv;

	if (r->stopping) {
		event_base_loopexit(r->base, NULL);
		return;
	}
	r->stopping = 1;
	tail_poll_cb(-1, 0, r);
	event_del(r->poll);
	tv.tv_sec = (time_t)r->timeout_s;
	tv.tv_usec = (suseconds_t)((r->timeout_s - (double)tv.tv_sec) * 1e6);
	evtimer_add(r->deadline, &tv);
	tandem_agent_flush(r->ag, tail_flushed_cb, r);
}

static void
tail_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tailrun *r = arg;

	log_warnx("acks still missing after %.1f s", r->timeout_s);
	event_base_loopexit(r->base, NULL);
}

int
cmd_tail(int argc, char **argv)
{
	enum { OPT_DURATION = CLI_OPT_LOCAL, OPT_FROM_START };
	static const struct option longopts[] = {
		CLI_LONGOPTS,
		{ "duration",	required_argument,	NULL, OPT_DURATION },
		{ "from-start",	no_argument,		NULL, OPT_FROM_START },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timeval poll_tv = { 0, TAIL_POLL_MS * 1000 }, tv;
	struct tandem_agent_stats st;
	struct logtail_stats ls;
	struct tailrun r;
	struct cli_opts o;
	double duration = -1;
	char err[256];
	uint64_t start;
	int ch, rc, from_start = 0, status;
	unsigned i;

	memset(&r, 0, sizeof(r));
	cli_opts_init(&o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, CLI_SHORTOPTS "h", longopts, NULL)) != -1) {
		if ((rc = cli_opts_handle(&o, ch, optarg)) == -1)
			return 2;
		if (rc == 1)
			continue;
		switch (ch) {
		case OPT_DURATION:
			if (cli_seconds("--duration", optarg, &duration) == -1)
				return 2;
			break;
		case OPT_FROM_START:
			from_start = 1;
			break;
		default:
			tail_usage();
			return 2;
		}
	}
	if (optind == argc || argc - optind > TAIL_MAX_FILES || o.ncollectors == 0 ||
	    o.conf.agent_id == NULL || o.conf.app == NULL) {
		tail_usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	r.timeout_s = o.timeout_s;
	r.nfiles = (unsigned)(argc - optind);
	if ((r.files = xcalloc(r.nfiles, sizeof(*r.files))) == NULL)
		fatalx("out of memory");
	for (i = 0; i < r.nfiles; i++)
		if ((r.files[i] = logtail_new(argv[optind + i], from_start)) == NULL)
			fatalx("out of memory");
	if ((r.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((r.ag = tandem_agent_new(r.base, &o.conf, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((r.poll = event_new(r.base, -1, EV_PERSIST, tail_poll_cb, &r)) == NULL ||
	    (r.stop = evtimer_new(r.base, tail_stop_cb, &r)) == NULL ||
	    (r.deadline = evtimer_new(r.base, tail_deadline_cb, &r)) == NULL ||
	    (r.sigint = evsignal_new(r.base, SIGINT, tail_stop_cb, &r)) == NULL ||
	    (r.sigterm = evsignal_new(r.base, SIGTERM, tail_stop_cb, &r)) == NULL)
		fatalx("libevent setup failed");
	event_add(r.sigint, NULL);
	event_add(r.sigterm, NULL);
	if (duration >= 0) {
		tv.tv_sec = (time_t)duration;
		tv.tv_usec = (suseconds_t)((duration - (double)tv.tv_sec) * 1e6);
		evtimer_add(r.stop, &tv);
	}
	start = cli_mono_us();
	tandem_agent_start(r.ag);
	tail_poll_cb(-1, 0, &r);	/* position at the ends of existing files now */
	event_add(r.poll, &poll_tv);
	event_base_dispatch(r.base);

	tandem_agent_stats(r.ag, &st);
	for (i = 0; i < r.nfiles; i++) {
		logtail_stats(r.files[i], &ls);
		printf("tail: %s: %" PRIu64 " lines, %" PRIu64 " rotations, %" PRIu64
		    " truncations\n", logtail_path(r.files[i]), ls.lines, ls.rotations,
		    ls.truncations);
	}
	cli_print_summary("tail", &st, tandem_agent_hist(r.ag),
	    (double)(cli_mono_us() - start) / 1e6);
	status = st.window_events == 0 ? 0 : 1;

	tandem_agent_free(r.ag);
	for (i = 0; i < r.nfiles; i++)
		logtail_free(r.files[i]);
	XFREE(r.files);
	event_free(r.poll);
	event_free(r.stop);
	event_free(r.deadline);
	event_free(r.sigint);
	event_free(r.sigterm);
	event_base_free(r.base);
	return status;
}
