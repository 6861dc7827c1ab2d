/* Tandem — MIT licence. monitord's alarm state in the replicated store: the `alarms` database. */
#ifndef TANDEM_COLLECTOR_ALARM_STORE_H
#define TANDEM_COLLECTOR_ALARM_STORE_H

#include <stddef.h>

struct collector;

#define ALARM_STORE_DB		"alarms"
#define ALARM_STORE_KEY_MAX	511		/* LMDB's default key limit */
#define ALARM_STORE_VAL_MAX	(16 * 1024)

/*
 * monitord is a read-only reader of the store; it sends every change of alarm state (alarm
 * records, history, silences, notification log, API rules) here through the control socket
 * (`alarm put HEXKEY HEXVALUE`, `alarm del HEXKEY`). Each change is written in a transaction
 * of its own, after the tick's open transaction is committed, and is durable (and in the
 * replication stream) when these return 0. Only a writing node (single, or active and not
 * draining) takes them: -1 with a reason in err otherwise, or on a store error.
 * The `alarms` database is opened lazily on the first change (store_dbi commits).
 */
int	alarm_store_put(struct collector *, const void *key, size_t klen, const void *val,
	    size_t vlen, char *err, size_t errlen);
int	alarm_store_del(struct collector *, const void *key, size_t klen, char *err,
	    size_t errlen);

#endif
