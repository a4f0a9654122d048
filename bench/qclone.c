/*
 * qclone.c - grow a stopped Postfix's deferred queue to N messages by
 * copying the files Postfix wrote under fresh queue ids (bench/scan.sh)
 *
 * qclone QUEUE_DIRECTORY N; prints the number of files it made. Submitting
 * a million messages through SMTP takes hours; copying a thousand real
 * ones a thousand times takes a minute. Each copy keeps its model's
 * owner, mode and mtime (its next retry) and goes into the hash directory
 * of its id's first character, as Postfix files it. The ids are 14
 * hexadecimal digits, the first cycling through all 16, so no copy can
 * take the name of a real (shorter) Postfix id. Only with Postfix stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct model {
	char		*data;
	size_t		 len;
	struct stat	 st;
};

static struct model *models;
static size_t	 nmodels, cap;

/* load - every complete file under DIR (one level of hash directories) */
static void
load(const char *dir)
{
	char		 sub[4096 + 256], path[4096 + 512];
	struct dirent	*d, *e;
	DIR		*dp, *sp;
	FILE		*f;

	if ((dp = opendir(dir)) == NULL) {
		perror(dir);
		exit(1);
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name);
		if ((sp = opendir(sub)) == NULL)
			continue;
		while ((e = readdir(sp)) != NULL) {
			struct model	*m;

			if (e->d_name[0] == '.')
				continue;
			if (nmodels == cap) {
				cap = cap ? cap * 2 : 1024;
				models = realloc(models, cap * sizeof(*models));
				if (models == NULL)
					exit(1);
			}
			m = &models[nmodels];
			snprintf(path, sizeof(path), "%s/%s", sub, e->d_name);
			if (stat(path, &m->st) == -1 ||
			    !(m->st.st_mode & S_IXUSR) ||
			    (m->data = malloc(m->st.st_size + 1)) == NULL ||
			    (f = fopen(path, "r")) == NULL)
				continue;
			m->len = fread(m->data, 1, m->st.st_size, f);
			fclose(f);
			nmodels++;
		}
		closedir(sp);
	}
	closedir(dp);
}

int
main(int argc, char **argv)
{
	char		 dir[4096], path[4096 + 64];
	struct timespec	 ts[2];
	struct model	*m;
	struct stat	 dst;
	long		 n, i;
	int		 fd;

	if (argc != 3 || (n = atol(argv[2])) < 0) {
		fprintf(stderr, "usage: qclone QUEUE_DIRECTORY N\n");
		return 64;
	}
	snprintf(dir, sizeof(dir), "%s/deferred", argv[1]);
	load(dir);
	if (nmodels == 0) {
		fprintf(stderr, "qclone: no deferred files in %s\n", dir);
		return 1;
	}
	/* the hash directories, as Postfix makes them: its own, 0700 */
	if (stat(dir, &dst) == -1) {
		perror(dir);
		return 1;
	}
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "%s/%lX", dir, i);
		if ((mkdir(path, 0700) == -1 && errno != EEXIST) ||
		    chown(path, dst.st_uid, dst.st_gid) == -1) {
			perror(path);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		m = &models[i % nmodels];
		snprintf(path, sizeof(path), "%s/%lX/%lX%013lX", dir, i % 16,
		    i % 16, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0700);
		if (fd == -1 || write(fd, m->data, m->len) != (ssize_t)m->len) {
			perror(path);
			return 1;
		}
		ts[0] = m->st.st_atim;
		ts[1] = m->st.st_mtim;
		if (fchown(fd, m->st.st_uid, m->st.st_gid) == -1 ||
		    fchmod(fd, m->st.st_mode & 07777) == -1 ||
		    futimens(fd, ts) == -1 || close(fd) == -1) {
			perror(path);
			return 1;
		}
	}
	printf("%ld\n", n);
	return 0;
}
