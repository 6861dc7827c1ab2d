/* Tandem — MIT licence. event_size: average protobuf size of the simulator's events. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/sim.h"

/*
 * Runs agent/sim.c (same napps and seed as `tandem-agent simulate`) for N events stamped with
 * the wall clock, as the simulator does, and prints the average packed size of one Event
 * message: the bytes an agent puts on the wire per event and the store keeps (before its
 * own block, key and page overhead). Used by the benchmark for bytes-on-disk per event.
 */

static uint64_t
number(const char *what, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] == '-' || errno != 0 || *end != '\0' || end == s || v < min || v > max) {
		fprintf(stderr, "event_size: %s: '%s' is not a number in %" PRIu64 "..%" PRIu64
		    "\n", what, s, min, max);
		exit(2);
	}
	return v;
}

int
main(int argc, char *argv[])
{
	static const char *const kinds[] = { "", "", "queue", "txn", "job", "log", "heartbeat" };
	struct sim_event sev;
	struct sim *sim;
	struct timespec ts;
	uint64_t napps, seed, n, i, total = 0, by_kind[7] = { 0 }, cnt_kind[7] = { 0 };
	size_t sz;
	unsigned app, k;
	int64_t ms;

	if (argc != 4) {
		fprintf(stderr, "usage: event_size N_APPS SEED N_EVENTS\n");
		return 2;
	}
	napps = number("N_APPS", argv[1], 1, 100000);
	seed = number("SEED", argv[2], 0, UINT64_MAX);
	n = number("N_EVENTS", argv[3], 1, UINT64_C(100000000));
	if ((sim = sim_new((unsigned)napps, seed)) == NULL) {
		fprintf(stderr, "event_size: out of memory\n");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (i = 0; i < n; i++) {
		sim_next(sim, ms + (int64_t)(i / 1000), &app, &sev);
		sz = tandem__event__get_packed_size(&sev.ev);
		total += sz;
		k = (unsigned)sev.ev.kind_case < 7 ? (unsigned)sev.ev.kind_case : 0;
		by_kind[k] += sz;
		cnt_kind[k]++;
	}
	printf("protobuf: %" PRIu64 " events, %.1f bytes per Event on average", n,
	    (double)total / (double)n);
	for (k = 2; k < 7; k++)
		if (cnt_kind[k] > 0)
			printf(", %s %.1f", kinds[k], (double)by_kind[k] / (double)cnt_kind[k]);
	printf("\n");
	sim_free(sim);
	return 0;
}
