/* Tandem — MIT licence. monitord's client of collectord's control socket: role, alarm state writes. */
#ifndef TANDEM_MONITOR_CTL_H
#define TANDEM_MONITOR_CTL_H

#include <stddef.h>

#define CTL_TIMEOUT_MS_DEFAULT	2000
/* An alarm write is answered once the standby applied it: collectord waits up to 5 s. */
#define CTL_ALARM_TIMEOUT_MS	8000

/*
 * One request line (without the newline) to the Unix socket at path; the one-line reply
 * into buf (NUL-terminated, newline removed). A Unix connect completes at once or fails;
 * the reply is waited for at most timeout_ms. 0, or -1 with a reason in err.
 */
int	ctl_request(const char *path, const char *line, char *buf, size_t len, int timeout_ms,
	    char *err, size_t errlen);

/* The collector's role ("single", "active", "standby", "none") into role. 0 or -1. */
int	ctl_role(const char *path, char *role, size_t rolelen, char *err, size_t errlen);

/*
 * `alarm put` / `alarm del` (collector/control.h): 0 once the change is durable in the
 * collector's store, -1 with the collector's or the socket's reason in err.
 */
int	ctl_alarm_put(const char *path, const char *key, const char *val, char *err,
	    size_t errlen);
int	ctl_alarm_del(const char *path, const char *key, char *err, size_t errlen);

#endif
