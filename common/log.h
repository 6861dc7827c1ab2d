/* Tandem — MIT licence. Logging: OpenBSD's log.h API, to stderr (-d) or syslog. */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdarg.h>

/*
 * log_init: debug != 0 logs to stderr, else to syslog with the given facility.
 * log_procinit: sets the process name shown in every line.
 * log_setverbose: 0 hides log_debug, >= 1 shows it.
 * log_warn appends strerror(errno); fatal/fatalx log and exit(1).
 */
void	log_init(int debug, int facility);
void	log_procinit(const char *name);
void	log_setverbose(int verbose);
int	log_getverbose(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	vlog(int, const char *, va_list) __attribute__((format(printf, 2, 0)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
