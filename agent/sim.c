/* Tandem — MIT licence. Seeded MES workload: queues, transactions, job timings, logs, heartbeats. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/sim.h"
#include "common/xalloc.h"

#define SIM_QUEUES	3
#define SIM_TXN_SLOTS	16
#define SIM_JOBS	4
#define SIM_KINDS	7	/* > highest Tandem__Event__KindCase */

enum sim_qpattern {
	SIM_Q_STEADY,
	SIM_Q_DRAIN,
	SIM_Q_GROW,
	SIM_Q_SAW,		/* rises, falls back part way: grows overall */
	SIM_Q_PATTERNS,
};

struct sim_queue {
	const char		*name;
	enum sim_qpattern	 pattern;
	double			 depth;
	uint64_t		 enq, compl;
	unsigned		 phase;
};

struct sim_txn {
	int			 active;
	unsigned		 step;		/* next step index */
	char			 id[40];
};

struct sim_app {
	unsigned		 flow;
	int			 noisy;
	struct sim_queue	 q[SIM_QUEUES];
	struct sim_txn		 txn[SIM_TXN_SLOTS];
	unsigned		 nopen;
	uint64_t		 txn_counter;
	unsigned		 job[SIM_JOBS];
	double			 job_mu[SIM_JOBS], job_sigma[SIM_JOBS], job_fail;
	int64_t			 first_ms;
};

struct sim {
	unsigned		 napps;
	uint64_t		 rng;
	uint64_t		*cum;		/* cumulative app weights */
	uint64_t		 total_weight;
	struct sim_app		*apps;
	uint64_t		 counts[SIM_KINDS];
	uint64_t		 serial;
};

static const char *const sim_flows[][7] = {
	{ "receive", "inspect", "store", NULL },
	{ "load", "weigh", "mix", "cure", "pack", NULL },
	{ "cut", "weld", "paint", "inspect", "ship", NULL },
	{ "pick", "kit", "assemble", "test", "label", "dispatch", NULL },
	{ "dispense", "react", "sample", "release", NULL },
};
#define SIM_FLOWS	(sizeof(sim_flows) / sizeof(sim_flows[0]))

static const char *const sim_jobs[] = { "assemble", "test", "pack", "label", "print",
    "calibrate", "weigh", "scan" };
#define SIM_JOB_NAMES	(sizeof(sim_jobs) / sizeof(sim_jobs[0]))

static const char *const sim_queue_names[SIM_QUEUES] = { "inbound", "wip", "outbound" };

/* splitmix64: tiny, fast, and every seed gives a full-period stream. */
static uint64_t
sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static double
sim_unit(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) * 0x1.0p-53;
}

static unsigned
sim_below(struct sim *s, unsigned n)
{
	return (unsigned)(((sim_rand(s) >> 32) * n) >> 32);
}

/* Standard normal by Box-Muller (one of the pair; determinism beats speed here). */
static double
sim_normal(struct sim *s)
{
	double u1 = sim_unit(s), u2 = sim_unit(s);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

struct sim *
sim_new(unsigned napps, uint64_t seed)
{
	struct sim *s;
	struct sim_app *a;
	unsigned i, k;
	double median;

	if (napps == 0)
		return NULL;
	if ((s = xcalloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->napps = napps;
	s->rng = seed;
	if ((s->apps = xcalloc(napps, sizeof(*s->apps))) == NULL ||
	    (s->cum = xcalloc(napps, sizeof(*s->cum))) == NULL)
		goto fail;
	for (i = 0; i < napps; i++) {
		a = &s->apps[i];
		/* Volumes differ: weights 1..5, so the busiest apps send five times more. */
		s->total_weight += 1 + (i * 7u) % 5;
		s->cum[i] = s->total_weight;
		a->flow = i % SIM_FLOWS;
		a->noisy = i % 7 == 3;
		a->first_ms = -1;
		for (k = 0; k < SIM_QUEUES; k++) {
			a->q[k].name = sim_queue_names[k];
			a->q[k].depth = 20 + sim_below(s, 40);
		}
		a->q[0].pattern = (enum sim_qpattern)(i % SIM_Q_PATTERNS);
		a->q[1].pattern = SIM_Q_STEADY;
		a->q[2].pattern = (enum sim_qpattern)((i + 2) % SIM_Q_PATTERNS);
		for (k = 0; k < SIM_QUEUES; k++)
			if (a->q[k].pattern == SIM_Q_DRAIN)
				a->q[k].depth = 400 + sim_below(s, 400);
		for (k = 0; k < SIM_JOBS; k++) {
			a->job[k] = (i + k) % SIM_JOB_NAMES;
			/* Medians from 2 ms to about 0.5 s, wider tails for the slower jobs. */
			median = 2000.0 * pow(4.0, (double)((i + k) % 5));
			a->job_mu[k] = log(median);
			a->job_sigma[k] = 0.35 + 0.15 * (double)k;
		}
		a->job_fail = a->noisy ? 0.08 : 0.015;
	}
	return s;
 fail:
	sim_free(s);
	return NULL;
}

void
sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	XFREE(s->apps);
	XFREE(s->cum);
	xfree(s);
}

uint64_t
sim_count(const struct sim *s, Tandem__Event__KindCase k)
{
	return (unsigned)k < SIM_KINDS ? s->counts[k] : 0;
}

static unsigned
sim_pick_app(struct sim *s)
{
	uint64_t r = sim_rand(s) % s->total_weight;
	unsigned lo = 0, hi = s->napps - 1, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->cum[mid] > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
sim_queue(struct sim *s, struct sim_app *a, struct sim_event *out)
{
	struct sim_queue *q = &a->q[sim_below(s, SIM_QUEUES)];
	double old = q->depth, noise = sim_unit(s) * 6.0 - 3.0, d;
	uint64_t arrivals = sim_below(s, 12);

	switch (q->pattern) {
	case SIM_Q_STEADY:
		q->depth += (40.0 - q->depth) * 0.1 + noise;
		break;
	case SIM_Q_DRAIN:
		q->depth -= 2.0 + sim_unit(s) * 3.0;
		break;
	case SIM_Q_GROW:
		q->depth += 0.6 + noise;
		break;
	case SIM_Q_SAW:
		if (++q->phase % 50 == 0)
			q->depth *= 0.4;
		else
			q->depth += 3.0 + noise * 0.3;
		break;
	case SIM_Q_PATTERNS:
		break;
	}
	if (q->depth < 0)
		q->depth = 0;
	d = floor(q->depth) - floor(old);
	if (d > (double)arrivals)
		arrivals = (uint64_t)d;
	q->enq += arrivals;
	q->compl += (uint64_t)((double)arrivals - d);
	out->q.queue = (char *)q->name;
	out->q.has_depth = 1;
	out->q.depth = (uint64_t)q->depth;
	out->q.has_enqueued_total = out->q.has_completed_total = 1;
	out->q.enqueued_total = q->enq;
	out->q.completed_total = q->compl;
	out->ev.kind_case = TANDEM__EVENT__KIND_QUEUE;
	out->ev.queue = &out->q;
}

static void
sim_attr(struct sim_event *out, unsigned i, const char *key, const char *prefix, unsigned v)
{
	tandem__attr__init(&out->attr[i]);
	snprintf(out->attr_val[i], sizeof(out->attr_val[i]), "%s%u", prefix, v);
	out->attr[i].key = (char *)key;
	out->attr[i].value = out->attr_val[i];
	out->attrp[i] = &out->attr[i];
	out->t.n_attrs = i + 1;
}

static void
sim_txn(struct sim *s, unsigned app, struct sim_app *a, struct sim_event *out)
{
	const char *const *steps = sim_flows[a->flow];
	struct sim_txn *t = NULL;
	unsigned i, nsteps;
	double u;

	for (nsteps = 0; steps[nsteps] != NULL; nsteps++)
		;
	out->t.n_attrs = 0;
	out->t.attrs = out->attrp;
	out->t.has_state = 1;
	if (a->nopen == 0 || (a->nopen < SIM_TXN_SLOTS && sim_unit(s) < 0.3)) {
		for (i = 0; i < SIM_TXN_SLOTS && a->txn[i].active; i++)
			;
		t = &a->txn[i];
		t->active = 1;
		t->step = 1;
		a->nopen++;
		snprintf(t->id, sizeof(t->id), "A%u-T%llu", app,
		    (unsigned long long)++a->txn_counter);
		out->t.txn_id = t->id;
		out->t.step = (char *)steps[0];
		out->t.state = TANDEM__TXN_STATE__TXN_BEGIN;
		sim_attr(out, 0, "lot", "L", (unsigned)(a->txn_counter * 7 % 100000));
		sim_attr(out, 1, "line", "", 1 + sim_below(s, 4));
		goto done;
	}
	i = sim_below(s, SIM_TXN_SLOTS);
	while (!a->txn[i].active)
		i = (i + 1) % SIM_TXN_SLOTS;
	t = &a->txn[i];
	out->t.txn_id = t->id;
	out->t.step = (char *)steps[t->step];
	u = sim_unit(s);
	if (u < 0.02) {
		out->t.state = TANDEM__TXN_STATE__TXN_ERROR;
		sim_attr(out, 0, "reason", "E", 100 + sim_below(s, 20));
		t->active = 0;
		a->nopen--;
	} else if (t->step + 1 == nsteps) {
		out->t.state = TANDEM__TXN_STATE__TXN_END;
		t->active = 0;
		a->nopen--;
	} else {
		out->t.state = TANDEM__TXN_STATE__TXN_STEP;
		sim_attr(out, 0, "station", "S", 1 + sim_below(s, 12));
		t->step++;
		/* A few are stuck: this step is the last anyone hears of them. */
		if (u > 0.995) {
			t->active = 0;
			a->nopen--;
		}
	}
 done:
	out->ev.kind_case = TANDEM__EVENT__KIND_TXN;
	out->ev.txn = &out->t;
}

static void
sim_job(struct sim *s, struct sim_app *a, struct sim_event *out)
{
	unsigned k = sim_below(s, SIM_JOBS);
	double us = exp(a->job_mu[k] + a->job_sigma[k] * sim_normal(s));

	out->j.job = (char *)sim_jobs[a->job[k]];
	out->j.has_duration_us = 1;
	out->j.duration_us = us < 1 ? 1 : (uint64_t)us;
	out->j.has_ok = 1;
	out->j.ok = sim_unit(s) >= a->job_fail;
	out->ev.kind_case = TANDEM__EVENT__KIND_JOB;
	out->ev.job = &out->j;
}

static void
sim_log(struct sim *s, struct sim_app *a, struct sim_event *out)
{
	double u = sim_unit(s), err = a->noisy ? 0.25 : 0.02, warn = a->noisy ? 0.15 : 0.05;
	unsigned x = sim_below(s, 100000), y = 1 + sim_below(s, 16);

	out->l.has_level = 1;
	if (u < err) {
		out->l.level = TANDEM__LOG_LEVEL__LOG_ERROR;
		switch (x % 3) {
		case 0: snprintf(out->text, sizeof(out->text),
		    "PLC timeout on station S%u after %u ms", y, 500 + x % 4500); break;
		case 1: snprintf(out->text, sizeof(out->text),
		    "database deadlock on order %u, rolled back", x); break;
		default: snprintf(out->text, sizeof(out->text),
		    "label printer P%u offline", y); break;
		}
	} else if (u < err + warn) {
		out->l.level = TANDEM__LOG_LEVEL__LOG_WARN;
		snprintf(out->text, sizeof(out->text),
		    "retrying PLC write on station S%u (attempt %u)", y, 1 + x % 3);
	} else if (u < err + warn + 0.1) {
		out->l.level = TANDEM__LOG_LEVEL__LOG_DEBUG;
		snprintf(out->text, sizeof(out->text), "poll cycle %u took %u us", x, y * 37);
	} else {
		out->l.level = TANDEM__LOG_LEVEL__LOG_INFO;
		if (x % 2)
			snprintf(out->text, sizeof(out->text),
			    "order %u released to line %u", x, y);
		else
			snprintf(out->text, sizeof(out->text),
			    "lot L%u completed at station S%u", x, y);
	}
	out->l.message = out->text;
	out->ev.kind_case = TANDEM__EVENT__KIND_LOG;
	out->ev.log = &out->l;
}

int
sim_next(struct sim *s, int64_t time_ms, unsigned *app, struct sim_event *out)
{
	struct sim_app *a;
	unsigned k, r;

	k = sim_pick_app(s);
	a = &s->apps[k];
	*app = k;
	tandem__event__init(&out->ev);
	out->ev.has_time_ms = 1;
	out->ev.time_ms = time_ms;
	if (a->first_ms < 0)
		a->first_ms = time_ms;
	r = sim_below(s, 1000);
	if (r < 200) {
		tandem__queue_sample__init(&out->q);
		sim_queue(s, a, out);
	} else if (r < 580) {
		tandem__txn_step__init(&out->t);
		sim_txn(s, k, a, out);
	} else if (r < 880) {
		tandem__job_timing__init(&out->j);
		sim_job(s, a, out);
	} else if (r < 980) {
		tandem__log_line__init(&out->l);
		sim_log(s, a, out);
	} else {
		tandem__app_heartbeat__init(&out->hb);
		out->hb.has_uptime_s = 1;
		out->hb.uptime_s = time_ms > a->first_ms ?
		    (uint64_t)(time_ms - a->first_ms) / 1000 : 0;
		out->ev.kind_case = TANDEM__EVENT__KIND_HEARTBEAT;
		out->ev.heartbeat = &out->hb;
	}
	s->counts[out->ev.kind_case < SIM_KINDS ? out->ev.kind_case : 0]++;
	s->serial++;
	return 0;
}
