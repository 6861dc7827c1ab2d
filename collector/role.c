/* Tandem — MIT licence. The collector's role in a pair: single, none, active or standby, and the moves between. */
#include <stdio.h>

#include "collector/collector.h"
#include "collector/collector_conf.h"
#include "collector/conn.h"
#include "collector/ingest.h"
#include "collector/repl.h"
#include "collector/role.h"
#include "collector/store.h"
#include "common/log.h"

const char *
collector_role_name(enum collector_role r)
{
	switch (r) {
	case ROLE_SINGLE:	return "single";
	case ROLE_NONE:		return "none";
	case ROLE_ACTIVE:	return "active";
	case ROLE_STANDBY:	return "standby";
	}
	return "unknown";
}

int
role_set_active(struct collector *c, uint64_t term, int alone, char *err, size_t errlen)
{
	if (c->role == ROLE_ACTIVE && c->term == term)
		return 0;
	if (term < c->term) {
		snprintf(err, errlen, "term %llu is older than the current term %llu",
		    (unsigned long long)term, (unsigned long long)c->term);
		return -1;
	}
	repl_standby_stop(c);
	c->term = term;
	store_set_term(c->store, repl_epoch(c, term));
	if (c->role != ROLE_ACTIVE) {
		log_info("role: %s -> active, term %llu, at position %llu",
		    collector_role_name(c->role), (unsigned long long)term,
		    (unsigned long long)store_pos(c->store));
		c->role = ROLE_ACTIVE;
		c->paused = 0;
		repl_master_activate(c, !alone);
		/* Blocks the old active had not folded yet: into their ranges, as records the
		 * next standby receives like any other. */
		while (store_fold(c->store, 100000) > 0)
			if (store_commit(c->store) == -1)
				break;
	} else
		log_info("role: active, new term %llu", (unsigned long long)term);
	return 0;
}

int
role_set_standby(struct collector *c, uint64_t term, const char *active, char *err,
    size_t errlen)
{
	if (term < c->term) {
		snprintf(err, errlen, "term %llu is older than the current term %llu",
		    (unsigned long long)term, (unsigned long long)c->term);
		return -1;
	}
	c->term = term;
	if (c->role != ROLE_STANDBY) {
		log_info("role: %s -> standby, term %llu, following %s",
		    collector_role_name(c->role), (unsigned long long)term, active);
		if (c->role == ROLE_ACTIVE || c->role == ROLE_SINGLE)
			ingest_commit(c->ingest);
		repl_master_deactivate(c);
		c->role = ROLE_STANDBY;
		c->paused = 0;
		/* Agents must go to the active: close them; the in-memory agent state is stale. */
		ingest_reset(c->ingest);
	}
	return repl_standby_start(c, active, err, errlen);
}

void
role_pause(struct collector *c, int on)
{
	if (on == c->paused)
		return;
	c->paused = on;
	if (on) {
		conn_stop_reading_all(c);
		ingest_commit(c->ingest);
		log_info("role: drained: not reading agents (switchover)");
	} else {
		conn_resume_reading_all(c);
		log_info("role: resumed reading agents");
	}
}
