/*
 * standalone.c - run a libFuzzer target without libFuzzer
 *
 * Linked with any fuzz_X.c instead of -fsanitize=fuzzer, so that every fuzz
 * target builds with gcc and "make check" replays its corpus (and any crash
 * input a fuzzing run found, once it is added there).
 *
 *	fuzz_X_replay FILE|DIR...
 *
 * Feeds every file named, and every file in every directory named (sorted,
 * dot files left out), to LLVMFuzzerTestOneInput once, each in a child
 * process of its own so that a crash fails that input only, in a buffer of
 * exactly the file's size so that a sanitizer sees any read past its end.
 * Prints TAP: one "ok" per file. Exits 1 when any input failed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define INPUT_MAX	(64 * 1024 * 1024)	/* fuzz inputs are small */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

struct inputs {
	char	**path;
	size_t	 n;
};

static void
add(struct inputs *in, const char *path)
{
	char	**p;

	if ((p = realloc(in->path, (in->n + 1) * sizeof(*p))) == NULL ||
	    (p[in->n] = strdup(path)) == NULL) {
		perror("standalone");
		exit(2);
	}
	in->path = p;
	in->n++;
}

static int
visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* collect - a file, or the files of a directory (not recursive) */
static void
collect(struct inputs *in, const char *arg)
{
	struct dirent	**names;
	struct stat	 st;
	char		*path;
	int		 i, n;

	if (stat(arg, &st) == -1 || !S_ISDIR(st.st_mode)) {
		add(in, arg);		/* an error shows when it is read */
		return;
	}
	if ((n = scandir(arg, &names, visible, alphasort)) == -1) {
		add(in, arg);
		return;
	}
	for (i = 0; i < n; i++) {
		if (asprintf(&path, "%s/%s", arg, names[i]->d_name) == -1) {
			perror("standalone");
			exit(2);
		}
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			add(in, path);
		free(path);
		free(names[i]);
	}
	free(names);
}

/* run_one - read path into an exact buffer and feed it: the child's job */
static int
run_one(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len, got = 0;
	ssize_t		 r;
	FILE		*fp;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) == -1) {
		printf("# %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > INPUT_MAX) {
		printf("# %s: not a regular file of at most %d bytes\n", path,
		    INPUT_MAX);
		return 1;
	}
	len = (size_t)st.st_size;
	if ((buf = malloc(len > 0 ? len : 1)) == NULL)
		return 1;
	while (got < len && (r = (ssize_t)fread(buf + got, 1, len - got,
	    fp)) > 0)
		got += (size_t)r;
	fclose(fp);
	if (got != len) {
		printf("# %s: short read\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct inputs	 in = { NULL, 0 };
	size_t		 i, failed = 0;
	pid_t		 pid;
	int		 status;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < (size_t)argc; i++)
		collect(&in, argv[i]);
	if (in.n == 0) {
		printf("1..0 # SKIP no inputs\n");
		return 0;
	}
	printf("1..%zu\n", in.n);
	for (i = 0; i < in.n; i++) {
		fflush(stdout);
		if ((pid = fork()) == -1) {
			perror("standalone: fork");
			return 2;
		}
		if (pid == 0) {
			status = run_one(in.path[i]);
			fflush(stdout);
			_exit(status);
		}
		if (waitpid(pid, &status, 0) == -1) {
			perror("standalone: waitpid");
			return 2;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			printf("ok %zu - %s\n", i + 1, in.path[i]);
		else {
			failed++;
			if (WIFSIGNALED(status))
				printf("not ok %zu - %s # signal %d\n", i + 1,
				    in.path[i], WTERMSIG(status));
			else
				printf("not ok %zu - %s # exit %d\n", i + 1,
				    in.path[i], WEXITSTATUS(status));
		}
		free(in.path[i]);
	}
	free(in.path);
	return failed > 0;
}
