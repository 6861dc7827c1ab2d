/* Tandem — MIT licence. collectord counters and their text form. */
#include <inttypes.h>
#include <stdio.h>

#include "collector/stats.h"
#include "proto/msg.h"

struct collector_stats stats;

#define P(f)	fprintf(out, "%s %" PRIu64 "\n", #f, stats.f)

void
stats_print(FILE *out)
{
	int i;

	P(conns_accepted);
	P(conns_open);
	P(conns_refused);
	P(hellos);
	P(frames_in);
	P(bytes_in);
	P(batches);
	P(events_in);
	P(events_stored);
	P(duplicates);
	P(blocks);
	P(acks);
	P(commits);
	P(commit_failures);
	P(commit_us_total);
	P(commit_us_max);
	P(store_full_refusals);
	P(pruned_blocks);
	P(pruned_derived);
	P(folded_blocks);
	P(fold_us_total);
	P(fold_us_max);
	P(read_pauses);
	P(repl_applied);
	P(repl_unprotected);
	P(repl_snapshots);
	P(stores_set_aside);
	P(log_pos);
	P(repl_peer_connected);
	P(repl_protected);
	P(repl_lag_records);
	for (i = 1; i < STATS_ERR_CODES; i++)
		fprintf(out, "errors_%s %" PRIu64 "\n", msg_error_name(i), stats.errors[i]);
}

int
stats_write_file(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	stats_print(f);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}
