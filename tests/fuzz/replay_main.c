/* Tandem — MIT licence. Corpus replay: feeds every file of the given directories (or files) to a fuzz target. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Linked with a libFuzzer target source instead of libFuzzer itself, so every ordinary test
 * run replays the committed corpus (sqlite's fuzzcheck, h2o's fuzz/ do the same). A crash,
 * sanitizer report or abort in the target fails the test; the file being replayed is printed
 * first so the failing input is named in the log.
 */

#define REPLAY_MAX_FILES	10000
#define REPLAY_MAX_BYTES	(4 * 1024 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static long replayed;

static int
replay_file(const char *path)
{
	uint8_t *buf = NULL;
	size_t n;
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(REPLAY_MAX_BYTES)) == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		goto end;
	}
	n = fread(buf, 1, REPLAY_MAX_BYTES, f);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		goto end;
	}
	if (!feof(f) && fgetc(f) != EOF) {
		fprintf(stderr, "replay: %s: over %d bytes\n", path, REPLAY_MAX_BYTES);
		goto end;
	}
	fprintf(stderr, "# %s (%zu bytes)\n", path, n);
	/* An exact-size copy, so ASan sees reads past the input's end. */
	{
		uint8_t *in = malloc(n ? n : 1);

		if (in == NULL)
			goto end;
		memcpy(in, buf, n);
		LLVMFuzzerTestOneInput(in, n);
		free(in);
	}
	replayed++;
	rc = 0;
end:
	free(buf);
	fclose(f);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_dir(const char *dir)
{
	char **names = NULL, path[4096];
	struct dirent *de;
	size_t n = 0, i;
	DIR *d;
	int rc = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if ((names = calloc(REPLAY_MAX_FILES, sizeof(*names))) == NULL) {
		closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == REPLAY_MAX_FILES) {
			fprintf(stderr, "replay: %s: over %d files\n", dir, REPLAY_MAX_FILES);
			rc = -1;
			break;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	/* Sorted, so a failure reproduces in the same order everywhere. */
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && rc == 0; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		/* Flat directories only: subdirectories are not descended into. */
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		rc = replay_file(path);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int
replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return replay_dir(path);
	return replay_file(path);
}

int
main(int argc, char *argv[])
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file ...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i]) == -1)
			return 1;
	if (replayed == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		return 1;
	}
	printf("# replayed %ld inputs\n", replayed);
	return 0;
}
