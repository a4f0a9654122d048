/*
 * sensor.c - read how loaded this host is: loadavg, PSI, memory, thermal
 * zones, queue disk and MTA queue depth
 *
 * Two layers. The parsers (sensor_parse_*) and the policy bits
 * (sensor_ratio, sensor_zone_limit, sensor_thermal_pick,
 * sensor_sample_pressure) are pure: a buffer and its length in, a number
 * out, nothing read past len, so they are table-tested and fuzzed. The
 * readers (sensor_read and its static helpers) are thin: build a path under
 * proc_root or sys_root, read the file with one bounded read, hand it to a
 * parser, and turn whatever goes wrong into an absent or error reading. No
 * reader fails or exits: a host that lacks a sensor just has one fewer.
 *
 * The file layout under the roots and the ratio rules are in sensor.h.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/config.h"
#include "ebb/log.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

#define SENSOR_NUM_MAX	48		/* longest number token accepted */
#define SENSOR_MC_MIN	(-273150LL)	/* absolute zero, millidegrees */
#define SENSOR_MC_MAX	500000LL	/* 500 C: beyond is a broken sensor */

static const struct {
	const char	*name;
	const char	*unit;
	int		 inverse;	/* the reading is what is left */
} sensor_table[SENSOR_COUNT] = {
	[SENSOR_LOAD]		= { "load",		"load/cpu",	0 },
	[SENSOR_PSI_CPU]	= { "psi_cpu",		"fraction",	0 },
	[SENSOR_PSI_IO]		= { "psi_io",		"fraction",	0 },
	[SENSOR_PSI_MEMORY]	= { "psi_memory",	"fraction",	0 },
	[SENSOR_MEMORY]		= { "memory",		"fraction",	1 },
	[SENSOR_TEMPERATURE]	= { "temperature",	"celsius",	0 },
	[SENSOR_QUEUE_DISK]	= { "queue_disk",	"bytes",	1 },
	[SENSOR_MTA_QUEUE]	= { "mta_queue",	"messages",	0 },
};

const char *
sensor_name(enum sensor_id id)
{
	return (unsigned)id < SENSOR_COUNT ? sensor_table[id].name : "?";
}

const char *
sensor_unit(enum sensor_id id)
{
	return (unsigned)id < SENSOR_COUNT ? sensor_table[id].unit : "?";
}

/*
 * Pure parsing helpers. A "span" is a pointer and a length; nothing here
 * looks past the end of the buffer it was given.
 */

/* next_line - split off the next line of [*p, end); 0 when none is left */
static int
next_line(const char **p, const char *end, const char **line_r,
    size_t *len_r)
{
	const char	*nl;

	if (*p >= end)
		return 0;
	*line_r = *p;
	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL) {
		*len_r = (size_t)(end - *p);
		*p = end;
	} else {
		*len_r = (size_t)(nl - *p);
		*p = nl + 1;
	}
	return 1;
}

/* next_token - the next run of non-blanks in [*p, end); 0 when none */
static int
next_token(const char **p, const char *end, const char **tok_r,
    size_t *len_r)
{
	const char	*s = *p;

	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n'))
		s++;
	if (s >= end)
		return 0;
	*tok_r = s;
	while (s < end && *s != ' ' && *s != '\t' && *s != '\n')
		s++;
	*len_r = (size_t)(s - *tok_r);
	*p = s;
	return 1;
}

/* has_prefix - the span starts with the NUL-terminated prefix */
static int
has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t	 n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/*
 * parse_decimal - a non-negative decimal ("12", "0.52") and nothing else:
 * no sign, exponent, hex, "inf" or "nan", so the result is finite and >= 0.
 */
static int
parse_decimal(const char *s, size_t len, double *r)
{
	char	 tmp[SENSOR_NUM_MAX];
	char	*end;
	size_t	 i, digits = 0, dots = 0;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && i > 0 && dots++ == 0)
			continue;
		else
			return -1;
	}
	if (digits == 0)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*r = strtod(tmp, &end);
	if (*end != '\0' || errno != 0 || !isfinite(*r))
		return -1;
	return 0;
}

/* parse_integer - an optionally negative integer of at most 18 digits */
static int
parse_integer(const char *s, size_t len, long long *r)
{
	long long	 v = 0;
	size_t		 i = 0;
	int		 neg = 0;

	if (len > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (len == i || len - i > 18)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*r = neg ? -v : v;
	return 0;
}

/* trim - drop blanks and newlines at both ends of a span */
static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t' ||
	    (*s)[0] == '\n')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
	    (*s)[*len - 1] == '\n'))
		(*len)--;
}

/* sensor_parse_loadavg - "0.52 0.58 0.59 1/467 12345": the first of three */
int
sensor_parse_loadavg(const char *buf, size_t len, double *load_r)
{
	const char	*p = buf, *end = buf + len, *tok;
	size_t		 toklen;
	double		 avg[3];
	int		 i;

	for (i = 0; i < 3; i++)
		if (!next_token(&p, end, &tok, &toklen) ||
		    parse_decimal(tok, toklen, &avg[i]) == -1)
			return -1;
	*load_r = avg[0];
	return 0;
}

/*
 * sensor_parse_running - "0.52 0.58 0.59 3/467 12345": the tasks running
 * or runnable now (3), the reader counted; -1 when the fourth field is not
 * "R/T" with R <= T
 */
int
sensor_parse_running(const char *buf, size_t len, long *running_r)
{
	const char	*p = buf, *end = buf + len, *tok, *slash;
	size_t		 toklen;
	long long	 r, t;
	int		 i;

	for (i = 0; i < 4; i++)
		if (!next_token(&p, end, &tok, &toklen))
			return -1;
	if ((slash = memchr(tok, '/', toklen)) == NULL || slash == tok ||
	    slash + 1 == tok + toklen ||
	    strspn(tok, "0123456789") != (size_t)(slash - tok) ||
	    parse_integer(tok, (size_t)(slash - tok), &r) == -1 ||
	    parse_integer(slash + 1, toklen - (size_t)(slash - tok) - 1,
	    &t) == -1 || r < 0 || t < r)
		return -1;
	*running_r = (long)r;
	return 0;
}

/*
 * sensor_parse_cpu_count - count "cpuN ..." lines; the "cpu " total line
 * and everything else is skipped. A line cut off by the bounded read still
 * counts once its number is complete.
 */
int
sensor_parse_cpu_count(const char *buf, size_t len, long *ncpu_r)
{
	const char	*p = buf, *end = buf + len, *line;
	size_t		 linelen, i;
	long		 n = 0;

	while (next_line(&p, end, &line, &linelen)) {
		if (!has_prefix(line, linelen, "cpu"))
			continue;
		for (i = 3; i < linelen && line[i] >= '0' && line[i] <= '9';
		    i++)
			;
		if (i > 3 && i < linelen && line[i] == ' ')
			n++;
	}
	if (n == 0)
		return -1;
	*ncpu_r = n;
	return 0;
}

/*
 * sensor_parse_psi - "some avg10=1.23 avg60=... total=...": avg10 / 100.
 * The "full" line, which newer kernels add, is not used.
 */
int
sensor_parse_psi(const char *buf, size_t len, double *some_avg10_r)
{
	const char	*p = buf, *end = buf + len, *line, *lp, *tok;
	size_t		 linelen, toklen;
	double		 v;

	while (next_line(&p, end, &line, &linelen)) {
		if (!has_prefix(line, linelen, "some "))
			continue;
		lp = line + 5;
		while (next_token(&lp, line + linelen, &tok, &toklen)) {
			if (!has_prefix(tok, toklen, "avg10="))
				continue;
			if (parse_decimal(tok + 6, toklen - 6, &v) == -1 ||
			    v > 100.0)
				return -1;
			*some_avg10_r = v / 100.0;
			return 0;
		}
		return -1;
	}
	return -1;
}

/* meminfo_field - the kB count of a "Key:   123 kB" line, or -1 */
static int
meminfo_field(const char *line, size_t linelen, const char *key,
    long long *kb_r)
{
	const char	*p, *end = line + linelen, *tok;
	size_t		 keylen = strlen(key), toklen;

	if (linelen <= keylen || memcmp(line, key, keylen) != 0 ||
	    line[keylen] != ':')
		return -1;
	p = line + keylen + 1;
	if (!next_token(&p, end, &tok, &toklen) ||
	    parse_integer(tok, toklen, kb_r) == -1 || *kb_r < 0)
		return -1;
	if (next_token(&p, end, &tok, &toklen) &&
	    (toklen != 2 || memcmp(tok, "kB", 2) != 0))
		return -1;
	return 0;
}

/* sensor_parse_meminfo - MemAvailable / MemTotal, a fraction 0..1 */
int
sensor_parse_meminfo(const char *buf, size_t len, double *available_r)
{
	const char	*p = buf, *end = buf + len, *line;
	size_t		 linelen;
	long long	 total = -1, avail = -1;

	while (next_line(&p, end, &line, &linelen)) {
		if (has_prefix(line, linelen, "MemTotal:")) {
			if (total != -1 ||
			    meminfo_field(line, linelen, "MemTotal", &total))
				return -1;
		} else if (has_prefix(line, linelen, "MemAvailable:")) {
			if (avail != -1 || meminfo_field(line, linelen,
			    "MemAvailable", &avail))
				return -1;
		}
	}
	if (total <= 0 || avail < 0 || avail > total)
		return -1;
	*available_r = (double)avail / (double)total;
	return 0;
}

/* sensor_parse_millicelsius - "45000\n" is 45.0 C */
int
sensor_parse_millicelsius(const char *buf, size_t len, double *celsius_r)
{
	long long	 mc;

	trim(&buf, &len);
	if (parse_integer(buf, len, &mc) == -1 || mc < SENSOR_MC_MIN ||
	    mc > SENSOR_MC_MAX)
		return -1;
	*celsius_r = (double)mc / 1000.0;
	return 0;
}

double
sensor_ratio(enum sensor_id id, double value, double limit)
{
	double	 ratio;

	if ((unsigned)id >= SENSOR_COUNT || isnan(value) || isnan(limit))
		return SENSOR_RATIO_MAX;
	if (sensor_table[id].inverse)
		ratio = value > 0 ? limit / value : SENSOR_RATIO_MAX;
	else
		ratio = limit > 0 ? value / limit : SENSOR_RATIO_MAX;
	if (isnan(ratio) || ratio > SENSOR_RATIO_MAX)
		return SENSOR_RATIO_MAX;
	return ratio < 0 ? 0 : ratio;
}

double
sensor_zone_limit(const struct sensor_zone *z, double configured,
    double margin)
{
	double	 trip;

	if (configured > 0)
		return configured;
	/* passive: where the platform starts to slow itself down */
	trip = z->passive > 0 ? z->passive : z->critical;
	if (trip <= 0 || trip - margin <= 0)
		return 0;
	return trip - margin;
}

/* why_printf - a reason into why; a long path is cut, not an error */
static void EBB_PRINTF(3, 4)
why_printf(char *why, size_t size, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* reading_absent - r is absent for the reason given */
static void EBB_PRINTF(2, 3)
reading_absent(struct sensor_reading *r, const char *fmt, ...)
{
	va_list	 ap;

	r->present = r->error = 0;
	r->value = r->limit = r->ratio = 0;
	r->detail[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* reading_error - r is there but broken */
static void EBB_PRINTF(2, 3)
reading_error(struct sensor_reading *r, const char *fmt, ...)
{
	va_list	 ap;

	r->present = 0;
	r->error = 1;
	r->value = r->limit = r->ratio = 0;
	r->detail[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* reading_set - r is present with value against limit */
static void
reading_set(struct sensor_reading *r, enum sensor_id id, double value,
    double limit)
{
	r->present = 1;
	r->error = 0;
	r->value = value;
	r->limit = limit;
	r->ratio = sensor_ratio(id, value, limit);
	r->why[0] = '\0';
}

void
sensor_thermal_pick(const struct sensor_zone *zones, size_t n,
    double configured, double margin, struct sensor_reading *r)
{
	const struct sensor_zone *best = NULL, *hottest = NULL;
	double		 limit, ratio, best_ratio = -1, best_limit = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		const struct sensor_zone *z = &zones[i];

		if (hottest == NULL || z->temp > hottest->temp)
			hottest = z;
		if ((limit = sensor_zone_limit(z, configured, margin)) <= 0)
			continue;
		ratio = sensor_ratio(SENSOR_TEMPERATURE, z->temp, limit);
		if (best == NULL || ratio > best_ratio ||
		    (ratio == best_ratio && z->index < best->index)) {
			best = z;
			best_ratio = ratio;
			best_limit = limit;
		}
	}
	if (n == 0) {
		reading_absent(r, "no thermal zone");
		return;
	}
	if (best == NULL) {
		reading_absent(r, "no trip point in %zu zone%s (hottest "
		    "%.1f C); set [limits] temperature", n, n == 1 ? "" : "s",
		    hottest->temp);
		return;
	}
	reading_set(r, SENSOR_TEMPERATURE, best->temp, best_limit);
	snprintf(r->detail, sizeof(r->detail), "thermal_zone%d%s%s",
	    best->index, best->type[0] != '\0' ? " " : "", best->type);
}

void
sensor_sample_pressure(struct sensor_sample *s)
{
	size_t	 i;

	s->pressure = 0;
	s->npresent = 0;
	for (i = 0; i < SENSOR_COUNT; i++) {
		if (!s->r[i].present)
			continue;
		s->npresent++;
		if (s->r[i].ratio > s->pressure)
			s->pressure = s->r[i].ratio;
	}
}

/*
 * The readers: thin, and every failure becomes a reading.
 */

/* sensor_path - "ROOT/rel" in buf, ROOT without its trailing "/"s */
static int EBB_PRINTF(4, 5)
sensor_path(char *buf, size_t size, const char *root, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 rootlen;
	int	 n;

	if (root == NULL)
		root = "";
	rootlen = strlen(root);
	while (rootlen > 0 && root[rootlen - 1] == '/')
		rootlen--;
	if (rootlen >= size)
		return -1;
	memcpy(buf, root, rootlen);
	va_start(ap, fmt);
	n = vsnprintf(buf + rootlen, size - rootlen, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size - rootlen ? -1 : 0;
}

/* root_is_slash - the root stands for this host's own "/" */
static int
root_is_slash(const char *root)
{
	return root == NULL || strspn(root, "/") == strlen(root);
}

/*
 * read_bounded - read all of path into buf (size bytes) in one go; -1 with
 * errno set on failure, EFBIG when the file holds more than size bytes and
 * truncate_ok is not set.
 */
static int
read_bounded(const char *path, char *buf, size_t size, int truncate_ok,
    size_t *len_r)
{
	size_t	 len = 0;
	ssize_t	 n;
	char	 extra;
	int	 fd, save;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	while (len < size) {
		if ((n = read(fd, buf + len, size - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == size && !truncate_ok) {
		while ((n = read(fd, &extra, 1)) == -1 && errno == EINTR)
			;
		if (n != 0) {
			errno = n == -1 ? errno : EFBIG;
			goto fail;
		}
	}
	close(fd);
	*len_r = len;
	return 0;
fail:
	save = errno;
	close(fd);
	errno = save;
	return -1;
}

/* missing - an errno that means "this host has no such file" */
static int
missing(int e)
{
	return e == ENOENT || e == ENOTDIR || e == EOPNOTSUPP;
}

/*
 * read_file - read path for reading r; 0 on success, else r is made
 * absent (the file is missing: absent_why) or an error, and -1 returned.
 */
static int
read_file(const char *path, char *buf, size_t size, size_t *len_r,
    const char *absent_why, struct sensor_reading *r)
{
	if (read_bounded(path, buf, size, 0, len_r) == 0)
		return 0;
	if (missing(errno))
		reading_absent(r, "%s: %s", path, absent_why);
	else
		reading_error(r, "%s: %s", path, strerror(errno));
	return -1;
}

/* cpu_count - CPUs as proc/stat under proc_root tells, or -1 */
static long
cpu_count(const char *proc_root, char *why, size_t whysize)
{
	char	 path[PATH_MAX], *buf;
	size_t	 len;
	long	 n = -1, sc;
	int	 rc;

	if (sensor_path(path, sizeof(path), proc_root, "/proc/stat") == -1) {
		why_printf(why, whysize, "proc_root too long");
		return -1;
	}
	buf = xmalloc(SENSOR_STAT_MAX);
	if ((rc = read_bounded(path, buf, SENSOR_STAT_MAX, 1, &len)) == -1)
		why_printf(why, whysize, "%s: %s", path, strerror(errno));
	else if (sensor_parse_cpu_count(buf, len, &n) == -1)
		why_printf(why, whysize, "%s: malformed (no cpuN line)", path);
	free(buf);
	if (n == -1 && root_is_slash(proc_root) &&
	    (sc = sysconf(_SC_NPROCESSORS_ONLN)) > 0)
		n = sc;
	return n;
}

static void
read_load(const struct config *cfg, struct sensor_reading *r)
{
	char	 path[PATH_MAX], buf[SENSOR_FILE_MAX], why[sizeof(r->why)];
	size_t	 len;
	double	 load;
	long	 ncpu, running;

	if (sensor_path(path, sizeof(path), cfg->proc_root, "/proc/loadavg")
	    == -1) {
		reading_error(r, "proc_root too long");
		return;
	}
	if (read_file(path, buf, sizeof(buf), &len, "no load average", r))
		return;
	if (sensor_parse_loadavg(buf, len, &load) == -1) {
		reading_error(r, "%s: malformed", path);
		return;
	}
	if ((ncpu = cpu_count(cfg->proc_root, why, sizeof(why))) <= 0) {
		reading_error(r, "cannot count CPUs: %s", why);
		return;
	}
	reading_set(r, SENSOR_LOAD, load / (double)ncpu, cfg->load_per_cpu);
	r->ncpu = ncpu;
	r->load1 = load;
	/* the task reading the file is one of those running: not load */
	r->running = sensor_parse_running(buf, len, &running) == 0 ?
	    (double)MAXIMUM(running - 1, 0) : -1;
	snprintf(r->detail, sizeof(r->detail), "%ld cpu%s, loadavg %.2f",
	    ncpu, ncpu == 1 ? "" : "s", load);
}

static void
read_psi(const struct config *cfg, const char *which, double limit,
    enum sensor_id id, struct sensor_reading *r)
{
	char	 path[PATH_MAX], buf[SENSOR_FILE_MAX];
	size_t	 len;
	double	 v;

	if (sensor_path(path, sizeof(path), cfg->proc_root,
	    "/proc/pressure/%s", which) == -1) {
		reading_error(r, "proc_root too long");
		return;
	}
	if (read_file(path, buf, sizeof(buf), &len,
	    "no PSI (kernel < 4.20 or psi=0)", r))
		return;
	if (sensor_parse_psi(buf, len, &v) == -1) {
		reading_error(r, "%s: malformed", path);
		return;
	}
	reading_set(r, id, v, limit);
	snprintf(r->detail, sizeof(r->detail), "some avg10 %.2f%%", v * 100);
}

static void
read_memory(const struct config *cfg, struct sensor_reading *r)
{
	char	 path[PATH_MAX], buf[SENSOR_FILE_MAX];
	size_t	 len;
	double	 avail;

	if (sensor_path(path, sizeof(path), cfg->proc_root, "/proc/meminfo")
	    == -1) {
		reading_error(r, "proc_root too long");
		return;
	}
	if (read_file(path, buf, sizeof(buf), &len, "no meminfo", r))
		return;
	if (sensor_parse_meminfo(buf, len, &avail) == -1) {
		reading_error(r, "%s: malformed (MemTotal, MemAvailable)",
		    path);
		return;
	}
	reading_set(r, SENSOR_MEMORY, avail, cfg->mem_available_min);
	snprintf(r->detail, sizeof(r->detail), "available "
	    "(MemAvailable/MemTotal)");
}

/* trip_type - the type word of a trip point file: 'c', 'p' or 0 */
static int
trip_type(const char *buf, size_t len)
{
	trim(&buf, &len);
	if (len == 8 && memcmp(buf, "critical", 8) == 0)
		return 'c';
	if (len == 7 && memcmp(buf, "passive", 7) == 0)
		return 'p';
	return 0;
}

/*
 * read_zone - zone z from DIR/thermal_zoneN; -1 when its temperature
 * cannot be read (why says so; errno ENOENT when there is no temp file).
 * Unreadable or odd trip points are skipped: they only cost a limit.
 */
static int
read_zone(const char *dir, struct sensor_zone *z, char *why, size_t whysize)
{
	char	 path[PATH_MAX], buf[SENSOR_FILE_MAX];
	size_t	 len;
	double	 t;
	int	 m, type, save;

	if (sensor_path(path, sizeof(path), dir, "/thermal_zone%d/temp",
	    z->index) == -1) {
		why_printf(why, whysize, "sys_root too long");
		errno = ENAMETOOLONG;
		return -1;
	}
	if (read_bounded(path, buf, sizeof(buf), 0, &len) == -1) {
		save = errno;
		why_printf(why, whysize, "%s: %s", path, strerror(save));
		errno = save;
		return -1;
	}
	if (sensor_parse_millicelsius(buf, len, &z->temp) == -1) {
		why_printf(why, whysize, "%s: malformed", path);
		errno = EINVAL;
		return -1;
	}
	if (sensor_path(path, sizeof(path), dir, "/thermal_zone%d/type",
	    z->index) == 0 && read_bounded(path, buf, sizeof(buf), 0,
	    &len) == 0) {
		const char	*s = buf;

		trim(&s, &len);
		len = MINIMUM(len, sizeof(z->type) - 1);
		memcpy(z->type, s, len);
		z->type[len] = '\0';
		for (m = 0; z->type[m] != '\0'; m++)
			if (z->type[m] < '!' || z->type[m] > '~')
				z->type[m] = '?';
	}
	for (m = 0; m < SENSOR_TRIPS_MAX; m++) {
		if (sensor_path(path, sizeof(path), dir,
		    "/thermal_zone%d/trip_point_%d_type", z->index, m) == -1 ||
		    read_bounded(path, buf, sizeof(buf), 0, &len) == -1)
			break;
		if ((type = trip_type(buf, len)) == 0)
			continue;
		if (sensor_path(path, sizeof(path), dir,
		    "/thermal_zone%d/trip_point_%d_temp", z->index, m) == -1 ||
		    read_bounded(path, buf, sizeof(buf), 0, &len) == -1 ||
		    sensor_parse_millicelsius(buf, len, &t) == -1 || t <= 0)
			continue;
		if (type == 'c' && (z->critical <= 0 || t < z->critical))
			z->critical = t;
		if (type == 'p' && (z->passive <= 0 || t < z->passive))
			z->passive = t;
	}
	return 0;
}

/* zone_index - N of a "thermal_zoneN" entry, or -1 */
static int
zone_index(const char *name)
{
	long long	 n;
	size_t		 len;

	if (strncmp(name, "thermal_zone", 12) != 0)
		return -1;
	name += 12;
	len = strlen(name);
	if (len == 0 || len > 6 || name[0] == '-' ||
	    parse_integer(name, len, &n) == -1)
		return -1;
	return (int)n;
}

static void
read_temperature(const struct config *cfg, struct sensor_reading *r)
{
	struct sensor_zone *zones;
	struct dirent	*de;
	DIR		*dp;
	char		 dir[PATH_MAX], why[sizeof(r->why)] = "";
	size_t		 n = 0, nbad = 0;
	int		 index;

	if (sensor_path(dir, sizeof(dir), cfg->sys_root, "/sys/class/thermal")
	    == -1) {
		reading_error(r, "sys_root too long");
		return;
	}
	if ((dp = opendir(dir)) == NULL) {
		if (missing(errno))
			reading_absent(r, "no thermal zone (%s)", dir);
		else
			reading_error(r, "%s: %s", dir, strerror(errno));
		return;
	}
	zones = xcalloc(SENSOR_ZONES_MAX, sizeof(*zones));
	while ((de = readdir(dp)) != NULL && n < SENSOR_ZONES_MAX) {
		if ((index = zone_index(de->d_name)) == -1)
			continue;
		memset(&zones[n], 0, sizeof(zones[n]));
		zones[n].index = index;
		if (read_zone(dir, &zones[n], why[0] == '\0' ? why : NULL,
		    why[0] == '\0' ? sizeof(why) : 0) == 0)
			n++;
		else if (errno != ENOENT)
			nbad++;
	}
	closedir(dp);
	if (n == 0 && nbad > 0)
		reading_error(r, "no thermal zone readable: %s", why);
	else
		sensor_thermal_pick(zones, n, cfg->temperature,
		    cfg->temperature_margin, r);
	free(zones);
}

static void
read_queue_disk(const struct config *cfg, const char *queue_dir,
    struct sensor_reading *r)
{
	struct statvfs	 sv;
	unsigned long	 frsize;

	if (queue_dir == NULL) {
		reading_absent(r, "no queue directory (MTA not reachable)");
		return;
	}
	if (statvfs(queue_dir, &sv) == -1) {
		reading_error(r, "%s: %s", queue_dir, strerror(errno));
		return;
	}
	frsize = sv.f_frsize != 0 ? sv.f_frsize : sv.f_bsize;
	reading_set(r, SENSOR_QUEUE_DISK, (double)sv.f_bavail * frsize,
	    (double)cfg->queue_disk_free_min);
	snprintf(r->detail, sizeof(r->detail), "free on %s", queue_dir);
}

/* limit_off - true (and r absent) when the limit turns the sensor off */
static int
limit_off(double limit, const char *key, struct sensor_reading *r)
{
	if (limit > 0)
		return 0;
	reading_absent(r, "off ([limits] %s = 0)", key);
	return 1;
}

void
sensor_read(enum sensor_id id, const struct config *cfg,
    const char *queue_dir, long mta_depth, struct sensor_reading *r)
{
	memset(r, 0, sizeof(*r));
	r->name = sensor_name(id);
	r->unit = sensor_unit(id);
	switch (id) {
	case SENSOR_LOAD:
		if (!limit_off(cfg->load_per_cpu, "load_per_cpu", r))
			read_load(cfg, r);
		break;
	case SENSOR_PSI_CPU:
		if (!limit_off(cfg->psi_cpu, "psi_cpu", r))
			read_psi(cfg, "cpu", cfg->psi_cpu, id, r);
		break;
	case SENSOR_PSI_IO:
		if (!limit_off(cfg->psi_io, "psi_io", r))
			read_psi(cfg, "io", cfg->psi_io, id, r);
		break;
	case SENSOR_PSI_MEMORY:
		if (!limit_off(cfg->psi_memory, "psi_memory", r))
			read_psi(cfg, "memory", cfg->psi_memory, id, r);
		break;
	case SENSOR_MEMORY:
		if (!limit_off(cfg->mem_available_min, "mem_available_min", r))
			read_memory(cfg, r);
		break;
	case SENSOR_TEMPERATURE:
		read_temperature(cfg, r);
		break;
	case SENSOR_QUEUE_DISK:
		if (!limit_off((double)cfg->queue_disk_free_min,
		    "queue_disk_free_min", r))
			read_queue_disk(cfg, queue_dir, r);
		break;
	case SENSOR_MTA_QUEUE:
		if (limit_off((double)cfg->mta_active_max, "mta_active_max", r))
			break;
		if (mta_depth < 0)
			reading_absent(r, "MTA not reachable");
		else
			reading_set(r, id, (double)mta_depth,
			    (double)cfg->mta_active_max);
		break;
	default:
		log_panic("sensor_read: bad sensor id %d", (int)id);
	}
}

void
sensor_sample_read(const struct config *cfg, const char *queue_dir,
    long mta_depth, const struct sensor_sample *prev, double mono,
    struct sensor_sample *sample_r)
{
	const struct sensor_reading *was;
	struct sensor_reading *now;
	int	 i;

	for (i = 0; i < SENSOR_COUNT; i++) {
		now = &sample_r->r[i];
		sensor_read((enum sensor_id)i, cfg, queue_dir, mta_depth, now);
		was = prev != NULL ? &prev->r[i] : NULL;
		if (now->error && (was == NULL || !was->error ||
		    strcmp(was->why, now->why) != 0))
			log_warn("sensor %s: %s; ignored", now->name,
			    now->why);
		else if (!now->error && was != NULL && was->error)
			log_info("sensor %s: %s", now->name, now->present ?
			    "readable again" : "gone");
	}
	sensor_outlook(cfg, prev, mono, sample_r);
}
