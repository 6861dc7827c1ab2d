/* Tandem — MIT licence. One JSON line -> one Tandem__Event, with line-level error messages. */
#ifndef TANDEM_JSONEV_H
#define TANDEM_JSONEV_H

#include <stddef.h>
#include <stdint.h>

#include "proto/agent.pb-c.h"
#include "proto/msg.h"

/*
 * Accepted lines (one object each; unknown keys are errors; "time_ms" optional, 0 = now):
 *   {"kind":"queue","queue":Q,"depth":N[,"enqueued_total":N,"completed_total":N]}
 *   {"kind":"txn","txn_id":T,"step":S[,"state":"begin|step|end|error"][,"attrs":{K:V,...}]}
 *   {"kind":"job","job":J,"duration_us":N[,"ok":true|false]}
 *   {"kind":"log"[,"level":"debug|info|warn|error|fatal"],"message":M}
 *   {"kind":"heartbeat"[,"uptime_s":N]}
 * Defaults: state "step", ok true, level "info".
 */
struct jsonev {
	Tandem__Event		ev;
	Tandem__QueueSample	q;
	Tandem__TxnStep		t;
	Tandem__Attr		attr[MSG_MAX_ATTRS];
	Tandem__Attr		*attrp[MSG_MAX_ATTRS];
	Tandem__JobTiming	j;
	Tandem__LogLine		l;
	Tandem__AppHeartbeat	hb;
	void			*root;		/* the parsed JSON (json_t), owns the strings */
};

/*
 * Parses line (len bytes, no newline needed) into je; the event is then also checked
 * against the protocol bounds with msg_check_event (now_ms stands in for a missing time).
 * Returns 0, or -1 with a reason in err. Either way call jsonev_clear() when done with je.
 */
int	jsonev_parse(struct jsonev *je, const char *line, size_t len, int64_t now_ms,
	    char *err, size_t errlen);
/* Releases what jsonev_parse kept; je->ev is invalid afterwards. Safe twice. */
void	jsonev_clear(struct jsonev *je);

#endif
