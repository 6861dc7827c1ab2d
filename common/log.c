/* Tandem — MIT licence. Logging to stderr or syslog, OpenBSD style. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"

static int log_debug_mode = 1;
static int log_verbose;
static const char *log_procname = "tandem";

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	if (!debug)
		openlog(log_procname, LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *name)
{
	if (name != NULL)
		log_procname = name;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (log_debug_mode) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s: %s\n", when, ts.tv_nsec / 1000000,
		    log_procname, buf);
		fflush(stderr);
	} else
		syslog(pri, "%s", buf);
}

void
log_warn(const char *emsg, ...)
{
	char buf[1536];
	va_list ap;
	int saved = errno;

	va_start(ap, emsg);
	vsnprintf(buf, sizeof(buf), emsg, ap);
	va_end(ap);
	log_warnx("%s: %s", buf, strerror(saved));
	errno = saved;
}

#define LOG_FN(fn, pri, gate)				\
void							\
fn(const char *emsg, ...)				\
{							\
	va_list ap;					\
							\
	if (gate)					\
		return;					\
	va_start(ap, emsg);				\
	vlog(pri, emsg, ap);				\
	va_end(ap);					\
}

LOG_FN(log_warnx, LOG_WARNING, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, log_verbose < 1)

static void __attribute__((noreturn, format(printf, 2, 0)))
vfatalc(int code, const char *emsg, va_list ap)
{
	char buf[1536];

	vsnprintf(buf, sizeof(buf), emsg, ap);
	if (code)
		log_warnx("fatal: %s: %s", buf, strerror(code));
	else
		log_warnx("fatal: %s", buf);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list ap;
	int code = errno;

	va_start(ap, emsg);
	vfatalc(code, emsg, ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
}
