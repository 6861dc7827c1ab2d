/* Tandem — MIT licence. Table-driven cmocka tests: each table row runs as its own named case. */
#ifndef TANDEM_TEST_CASES_H
#define TANDEM_TEST_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*
 * A row type starts with `const char *what`. cases_table() adds one cmocka test per row,
 * named "<prefix>: <what>", whose *state is the row; so a failure names the row, and
 * tests/run_all.sh counts rows, not files. cases_add() adds a plain test. cases_run() runs
 * everything added and frees the list. Bounded: at most CASES_MAX cases per binary.
 *
 * CHECK(c) fails the current case with the row's label and the failed expression.
 */

#define CASES_MAX	4096

struct cases {
	struct CMUnitTest	 t[CASES_MAX];
	char			*names[CASES_MAX];
	size_t			 n;
};

static inline void
cases_add(struct cases *cs, const char *name, CMUnitTestFunction fn, const void *row)
{
	char *s;

	if (cs->n == CASES_MAX || (s = strdup(name)) == NULL) {
		fprintf(stderr, "cases_add: over %d cases or out of memory\n", CASES_MAX);
		abort();
	}
	memset(&cs->t[cs->n], 0, sizeof(cs->t[cs->n]));
	cs->names[cs->n] = s;
	cs->t[cs->n].name = s;
	cs->t[cs->n].test_func = fn;
	cs->t[cs->n].initial_state = (void *)(uintptr_t)row;
	cs->n++;
}

static inline void
cases_table(struct cases *cs, const char *prefix, CMUnitTestFunction fn, const void *rows,
    size_t nrows, size_t rowsize)
{
	char name[256];
	size_t i;

	for (i = 0; i < nrows; i++) {
		const void *row = (const char *)rows + i * rowsize;

		snprintf(name, sizeof(name), "%s: %s", prefix, *(const char *const *)row);
		cases_add(cs, name, fn, row);
	}
}

#define CASES_TABLE(cs, prefix, fn, rows) \
	cases_table((cs), (prefix), (fn), (rows), sizeof(rows) / sizeof((rows)[0]), sizeof((rows)[0]))

static inline int
cases_run(struct cases *cs, const char *group)
{
	size_t i;
	int failed;

	failed = _cmocka_run_group_tests(group, cs->t, cs->n, NULL, NULL);
	for (i = 0; i < cs->n; i++) {
		free(cs->names[i]);
		cs->names[i] = NULL;
	}
	cs->n = 0;
	return failed;
}

/* The row of the running case. */
#define ROW(type, state)	((const type *)*(state))

#define CHECK(c) do {							\
	if (!(c))							\
		fail_msg("%s:%d: %s", __FILE__, __LINE__, #c);		\
} while (0)

#endif
