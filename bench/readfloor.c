/*
 * readfloor.c - the floor for a queue scan: walk the queue directories,
 * open every complete file and read its first 1 KiB (bench/scan.sh)
 *
 * readfloor QUEUE_DIRECTORY; prints "seconds files".
 * readfloor -s QUEUE_DIRECTORY: a Sendmail queue, its qf and hf files
 * (flat, or in a qf/ subdirectory).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t	 nfiles;
static int	 sendmail;

static void
walk(const char *dir, int depth)
{
	char		 path[4096], buf[1024];
	struct dirent	*de;
	struct stat	 st;
	DIR		*dp;
	int		 fd;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth < 2)
				walk(path, depth + 1);
			continue;
		}
		if (sendmail ? (de->d_name[0] != 'q' && de->d_name[0] != 'h') ||
		    de->d_name[1] != 'f' : !(st.st_mode & S_IXUSR))
			continue;
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		if (read(fd, buf, sizeof(buf)) > 0)
			nfiles++;
		close(fd);
	}
	closedir(dp);
}

int
main(int argc, char **argv)
{
	static const char *queues[] = { "incoming", "active", "deferred",
	    "hold" };
	struct timespec	 a, b;
	char		 path[4096];
	size_t		 i;

	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		sendmail = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: readfloor [-s] QUEUE_DIRECTORY\n");
		return 64;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (sendmail)
		walk(argv[1], 1);
	for (i = 0; !sendmail && i < sizeof(queues) / sizeof(queues[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], queues[i]);
		walk(path, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.4f %zu\n", (b.tv_sec - a.tv_sec) +
	    (b.tv_nsec - a.tv_nsec) / 1e9, nfiles);
	return 0;
}
