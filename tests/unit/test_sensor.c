/*
 * test_sensor.c - the sensor parsers, the ratio rules and the readers
 *
 * Parsers are checked on tables of good and malformed input; the readers on
 * the fake hosts under tests/data (host-idle, host-overloaded,
 * host-malformed, host-nopsi, host-thermal, host-notrip), read through
 * proc_root and sys_root; cases that need a file rewritten or an odd file
 * build their own fake root under a mkdtemp directory. Nothing is written
 * into the source tree.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/config.h"
#include "ebb/log.h"
#include "ebb/sensor.h"
#include "ebb/util.h"

#define NEAR(a, b)	(fabs((a) - (b)) < 1e-6)

/* data_root - a fake host under tests/data; free the result */
static char *
data_root(const char *host)
{
	const char	*top = getenv("top_srcdir");

	if (top == NULL || *top == '\0')
		top = ".";
	return xasprintf("%s/tests/data/%s", top, host);
}

/* read_data - a fixture file into buf; its length */
static size_t
read_data(const char *rel, char *buf, size_t size)
{
	char	*path = data_root(rel);
	FILE	*fp;
	size_t	 len;

	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	len = fread(buf, 1, size, fp);
	fclose(fp);
	free(path);
	return len;
}

/* test_config - the default limits of ebb.conf(5), both roots at root */
static void
test_config(struct config *c, char *root)
{
	memset(c, 0, sizeof(*c));
	c->proc_root = root;
	c->sys_root = root;
	c->interval = 1;
	c->load_per_cpu = 2.0;
	c->psi_cpu = 0.8;
	c->psi_io = 0.6;
	c->psi_memory = 0.4;
	c->mem_available_min = 0.1;
	c->temperature = 0;
	c->temperature_margin = 5;
	c->temperature_horizon = 60;
	c->queue_disk_free_min = 256LL << 20;
	c->mta_active_max = 20000;
	c->critical = 1.5;
}

/* sample_of - read every sensor of a fake host */
static void
sample_of(const char *host, struct config *c, struct sensor_sample *s)
{
	char	*root = data_root(host);

	test_config(c, root);
	sensor_sample_read(c, NULL, -1, NULL, 0, s);
	c->proc_root = c->sys_root = NULL;
	free(root);
}

/* scratch_new - an empty directory for a fake root */
static char *
scratch_new(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	dir = xasprintf("%s/ebb-test-sensor-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	return dir;
}

/* scratch_put - write content to root/rel, making the directories */
static void
scratch_put(const char *root, const char *rel, const char *content)
{
	char	*path = xasprintf("%s/%s", root, rel), *p;
	FILE	*fp;

	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	if ((fp = fopen(path, "w")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(content, fp);
	fclose(fp);
	free(path);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* scratch_free - remove a scratch tree */
static void
scratch_free(char *root)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* capture - send stderr (the log) to a file until capture_end */
struct capture {
	int	 saved;
	char	 path[64];
};

static void
capture_begin(struct capture *cap)
{
	int	 fd;

	snprintf(cap->path, sizeof(cap->path), "/tmp/ebb-test-log-XXXXXX");
	if ((fd = mkstemp(cap->path)) == -1)
		fail_msg("mkstemp: %s", strerror(errno));
	fflush(stderr);
	cap->saved = dup(2);
	dup2(fd, 2);
	close(fd);
}

/* capture_end - stderr back; the captured text (free it) */
static char *
capture_end(struct capture *cap)
{
	char	 buf[8192];
	size_t	 len;
	FILE	*fp;

	fflush(stderr);
	dup2(cap->saved, 2);
	close(cap->saved);
	fp = fopen(cap->path, "r");
	len = fp != NULL ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
	if (fp != NULL)
		fclose(fp);
	unlink(cap->path);
	buf[len] = '\0';
	return xstrdup(buf);
}

/* count - occurrences of needle in hay */
static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/*
 * The parsers
 */

struct parse_row {
	const char	*in;
	int		 rc;
	double		 want;
};

static void
check_rows(const char *what, int (*parse)(const char *, size_t, double *),
    const struct parse_row *rows, size_t n)
{
	double	 v;
	size_t	 i;
	int	 rc;

	for (i = 0; i < n; i++) {
		v = -12345;
		rc = parse(rows[i].in, strlen(rows[i].in), &v);
		if (rc != rows[i].rc)
			fail_msg("%s(\"%s\"): rc %d, want %d", what,
			    rows[i].in, rc, rows[i].rc);
		if (rc == 0 && !NEAR(v, rows[i].want))
			fail_msg("%s(\"%s\"): %g, want %g", what, rows[i].in,
			    v, rows[i].want);
	}
}

static void
test_parse_loadavg(void **state)
{
	static const struct parse_row rows[] = {
		{ "0.52 0.58 0.59 1/467 12345\n", 0, 0.52 },
		{ "38.50 30.12 22.04 97/1024 31337", 0, 38.5 },
		{ "  3 2 1\n", 0, 3 },
		{ "", -1, 0 },
		{ "\n", -1, 0 },
		{ "high load\n", -1, 0 },
		{ "0.5 0.5\n", -1, 0 },
		{ "-1.00 0 0 1/1 1\n", -1, 0 },
		{ "nan 0 0 1/1 1\n", -1, 0 },
		{ "inf 0 0 1/1 1\n", -1, 0 },
		{ "1e3 0 0 1/1 1\n", -1, 0 },
		{ "0x10 0 0 1/1 1\n", -1, 0 },
		{ "1.2.3 0 0 1/1 1\n", -1, 0 },
		{ ".5 0 0 1/1 1\n", -1, 0 },
		{ "123456789012345678901234567890123456789012345678901 0 0\n",
		  -1, 0 },
	};
	static const char unterminated[] = { '0', '.', '2', '5', ' ', '1',
	    ' ', '2', '9', '9' };
	double	 v;

	check_rows("loadavg", sensor_parse_loadavg, rows, nitems(rows));
	/* no NUL needed, nothing read past len */
	assert_int_equal(sensor_parse_loadavg(unterminated, 8, &v), 0);
	assert_true(NEAR(v, 0.25));
	assert_int_equal(sensor_parse_loadavg(unterminated, 6, &v), -1);
}

/* the fourth field of loadavg, "R/T": R, bounded and checked */
static void
test_parse_running(void **state)
{
	static const struct {
		const char	*in;
		int		 rc;
		long		 want;
	} rows[] = {
		{ "0.52 0.58 0.59 3/467 12345\n", 0, 3 },
		{ "0.52 0.58 0.59 0/1 1", 0, 0 },
		{ "1 1 1 120/400 4242\n", 0, 120 },
		{ "0.52 0.58 0.59\n", -1, 0 },		/* no fourth field */
		{ "0.52 0.58 0.59 3\n", -1, 0 },	/* no slash */
		{ "0.52 0.58 0.59 /467\n", -1, 0 },
		{ "0.52 0.58 0.59 3/\n", -1, 0 },
		{ "0.52 0.58 0.59 -3/467\n", -1, 0 },
		{ "0.52 0.58 0.59 3/-467\n", -1, 0 },
		{ "0.52 0.58 0.59 9/4\n", -1, 0 },	/* more than there are */
		{ "0.52 0.58 0.59 x/4\n", -1, 0 },
		{ "0.52 0.58 0.59 1/2/3\n", -1, 0 },
		{ "0.52 0.58 0.59 1234567890123456789012/9\n", -1, 0 },
		{ "", -1, 0 },
	};
	static const char cut[] = { '1', ' ', '1', ' ', '1', ' ', '2', '/',
	    '9', '9' };
	long	 v;
	size_t	 i;
	int	 rc;

	(void)state;
	for (i = 0; i < nitems(rows); i++) {
		v = -7;
		rc = sensor_parse_running(rows[i].in, strlen(rows[i].in), &v);
		if (rc != rows[i].rc || (rc == 0 && v != rows[i].want))
			fail_msg("running(\"%s\"): rc %d v %ld, want %d %ld",
			    rows[i].in, rc, v, rows[i].rc, rows[i].want);
	}
	/* no NUL needed, nothing read past len: "1 1 1 2/9" */
	assert_int_equal(sensor_parse_running(cut, 9, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(sensor_parse_running(cut, 7, &v), -1);
}

static void
test_parse_cpu_count(void **state)
{
	static const struct {
		const char	*in;
		int		 rc;
		long		 want;
	} rows[] = {
		{ "cpu  1 2 3\ncpu0 1 2 3\ncpu1 1 2 3\nintr 1 2\n", 0, 2 },
		{ "cpu0 1\ncpu1 1\ncpux 1\ncpu 1\ncpu17 1\n", 0, 3 },
		{ "intr 1 2\ncpu0 1", 0, 1 },
		{ "cpu  1 2 3\nintr 1\n", -1, 0 },
		{ "cpu12", -1, 0 },
		{ "", -1, 0 },
		{ "processor : 0\n", -1, 0 },
	};
	char	 buf[SENSOR_FILE_MAX];
	size_t	 i, len;
	long	 n;

	for (i = 0; i < nitems(rows); i++) {
		n = -1;
		assert_int_equal(sensor_parse_cpu_count(rows[i].in,
		    strlen(rows[i].in), &n), rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(n, rows[i].want);
	}
	len = read_data("host-idle/proc/stat", buf, sizeof(buf));
	assert_int_equal(sensor_parse_cpu_count(buf, len, &n), 0);
	assert_int_equal(n, 4);
}

static void
test_parse_psi(void **state)
{
	static const struct parse_row rows[] = {
		{ "some avg10=12.50 avg60=3.00 avg300=1.00 total=12345\n"
		  "full avg10=2.00 avg60=0.00 avg300=0.00 total=0\n", 0,
		  0.125 },
		{ "full avg10=2.00 avg60=0.00 avg300=0.00 total=0\n"
		  "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0, 0 },
		{ "some avg10=100.00 avg60=0 avg300=0 total=0", 0, 1 },
		{ "some avg60=1.00 avg10=7.25 total=3\n", 0, 0.0725 },
		{ "full avg10=2.00 avg60=0.00 avg300=0.00 total=0\n", -1, 0 },
		{ "some avg60=1.00 avg300=1.00 total=3\n", -1, 0 },
		{ "some avg10=100.01 avg60=0 avg300=0 total=0\n", -1, 0 },
		{ "some avg10=-1.00 avg60=0 avg300=0 total=0\n", -1, 0 },
		{ "some avg10=nan avg60=0 avg300=0 total=0\n", -1, 0 },
		{ "some avg10= avg60=0 avg300=0 total=0\n", -1, 0 },
		{ "some avg10=abc avg60=0 avg300=0 total=0\n", -1, 0 },
		{ "", -1, 0 },
	};

	check_rows("psi", sensor_parse_psi, rows, nitems(rows));
}

static void
test_parse_meminfo(void **state)
{
	static const struct parse_row rows[] = {
		{ "MemTotal: 1000 kB\nMemFree: 10 kB\nMemAvailable: 900 kB\n",
		  0, 0.9 },
		{ "MemAvailable:   0 kB\nMemTotal:     4 kB\n", 0, 0 },
		{ "MemTotal: 1000 kB\nMemAvailable: 1000 kB", 0, 1 },
		{ "MemTotal: 1000 kB\nMemFree: 10 kB\n", -1, 0 },
		{ "MemFree: 10 kB\nMemAvailable: 900 kB\n", -1, 0 },
		{ "MemTotal: 0 kB\nMemAvailable: 0 kB\n", -1, 0 },
		{ "MemTotal: 10 kB\nMemAvailable: 11 kB\n", -1, 0 },
		{ "MemTotal: abc kB\nMemAvailable: 1 kB\n", -1, 0 },
		{ "MemTotal: 1000 MB\nMemAvailable: 1 kB\n", -1, 0 },
		{ "MemTotal: -5 kB\nMemAvailable: 1 kB\n", -1, 0 },
		{ "MemTotal: 10 kB\nMemTotal: 10 kB\nMemAvailable: 1 kB\n",
		  -1, 0 },
		{ "", -1, 0 },
	};
	char	 buf[SENSOR_FILE_MAX];
	size_t	 len;
	double	 v;

	check_rows("meminfo", sensor_parse_meminfo, rows, nitems(rows));
	len = read_data("host-idle/proc/meminfo", buf, sizeof(buf));
	assert_int_equal(sensor_parse_meminfo(buf, len, &v), 0);
	assert_true(NEAR(v, 0.9));
}

static void
test_parse_millicelsius(void **state)
{
	static const struct parse_row rows[] = {
		{ "45000\n", 0, 45 },
		{ "62500", 0, 62.5 },
		{ "-5000\n", 0, -5 },
		{ "0\n", 0, 0 },
		{ "hot\n", -1, 0 },
		{ "N/A\n", -1, 0 },
		{ "", -1, 0 },
		{ "-\n", -1, 0 },
		{ "4.5\n", -1, 0 },
		{ "45000 1\n", -1, 0 },
		{ "-300000\n", -1, 0 },
		{ "600000\n", -1, 0 },
		{ "99999999999999999999999\n", -1, 0 },
	};

	check_rows("millicelsius", sensor_parse_millicelsius, rows,
	    nitems(rows));
}

/*
 * The pure rules
 */

static void
test_names(void **state)
{
	static const char *const want[SENSOR_COUNT] = { "load", "psi_cpu",
	    "psi_io", "psi_memory", "memory", "temperature", "queue_disk",
	    "mta_queue" };
	int	 i;

	for (i = 0; i < SENSOR_COUNT; i++) {
		assert_string_equal(sensor_name(i), want[i]);
		assert_non_null(sensor_unit(i));
	}
	assert_string_equal(sensor_name(SENSOR_COUNT), "?");
}

static void
test_ratio(void **state)
{
	static const struct {
		enum sensor_id	 id;
		double		 value, limit, want;
	} rows[] = {
		{ SENSOR_LOAD, 1.0, 2.0, 0.5 },
		{ SENSOR_LOAD, 8.0, 2.0, 4.0 },
		{ SENSOR_PSI_CPU, 0.4, 0.8, 0.5 },
		{ SENSOR_TEMPERATURE, 50, 100, 0.5 },
		{ SENSOR_TEMPERATURE, -10, 100, 0 },
		{ SENSOR_MTA_QUEUE, 10000, 20000, 0.5 },
		{ SENSOR_MTA_QUEUE, 1e12, 1, SENSOR_RATIO_MAX },
		/* what is left: available == min gives 1 */
		{ SENSOR_MEMORY, 0.1, 0.1, 1 },
		{ SENSOR_MEMORY, 0.5, 0.1, 0.2 },
		{ SENSOR_MEMORY, 0.05, 0.1, 2 },
		{ SENSOR_MEMORY, 0, 0.1, SENSOR_RATIO_MAX },
		{ SENSOR_QUEUE_DISK, 512.0 * (1 << 20), 256.0 * (1 << 20),
		  0.5 },
		{ SENSOR_QUEUE_DISK, 1, 256.0 * (1 << 20), SENSOR_RATIO_MAX },
		{ SENSOR_LOAD, NAN, 2, SENSOR_RATIO_MAX },
		{ SENSOR_LOAD, 1, 0, SENSOR_RATIO_MAX },
	};
	size_t	 i;
	double	 r;

	for (i = 0; i < nitems(rows); i++) {
		r = sensor_ratio(rows[i].id, rows[i].value, rows[i].limit);
		if (!NEAR(r, rows[i].want))
			fail_msg("row %zu: %s %g/%g: ratio %g, want %g", i,
			    sensor_name(rows[i].id), rows[i].value,
			    rows[i].limit, r, rows[i].want);
	}
}

static void
test_zone_limit(void **state)
{
	struct sensor_zone	 z = { .temp = 50 };

	z.critical = 105;
	z.passive = 95;
	assert_true(sensor_zone_limit(&z, 0, 5) == 90);	  /* passive first */
	assert_true(sensor_zone_limit(&z, 0, 0) == 95);
	assert_true(sensor_zone_limit(&z, 80, 5) == 80);  /* configured */
	z.passive = 0;
	assert_true(sensor_zone_limit(&z, 0, 5) == 100);  /* else critical */
	z.critical = 0;
	z.passive = 95;
	assert_true(sensor_zone_limit(&z, 0, 5) == 90);	  /* passive */
	z.passive = 0;
	assert_true(sensor_zone_limit(&z, 0, 5) == 0);	  /* none */
	assert_true(sensor_zone_limit(&z, 70, 5) == 70);
	z.critical = 4;
	assert_true(sensor_zone_limit(&z, 0, 5) == 0);	  /* below 0 */
}

static void
test_thermal_pick(void **state)
{
	struct sensor_zone	 zones[] = {
		{ .index = 0, .temp = 45, .critical = 105, .type = "acpitz" },
		{ .index = 1, .temp = 62, .passive = 85, .type = "pkg" },
		{ .index = 3, .temp = 70, .type = "pch" },
		{ .index = 2, .temp = 57, .passive = 85, .type = "other" },
	};
	struct sensor_reading	 r;

	memset(&r, 0, sizeof(r));
	sensor_thermal_pick(zones, 0, 0, 5, &r);
	assert_false(r.present);
	assert_false(r.error);
	assert_non_null(strstr(r.why, "no thermal zone"));

	/* largest ratio: 62/80 beats 45/100; zone 3 has no limit */
	sensor_thermal_pick(zones, nitems(zones), 0, 5, &r);
	assert_true(r.present);
	assert_true(r.value == 62 && r.limit == 80);
	assert_string_equal(r.detail, "thermal_zone1 pkg");

	/* one configured limit for all: the hottest zone */
	sensor_thermal_pick(zones, nitems(zones), 90, 5, &r);
	assert_true(r.value == 70 && r.limit == 90);
	assert_string_equal(r.detail, "thermal_zone3 pch");

	/* a tie goes to the lower zone number */
	zones[3].temp = 62;
	sensor_thermal_pick(zones, nitems(zones), 0, 5, &r);
	assert_string_equal(r.detail, "thermal_zone1 pkg");

	/* no zone with a limit: absent, and the reason says what to set */
	sensor_thermal_pick(&zones[2], 1, 0, 5, &r);
	assert_false(r.present);
	assert_false(r.error);
	assert_non_null(strstr(r.why, "70.0 C"));
	assert_non_null(strstr(r.why, "[limits] temperature"));
}

static void
test_sample_pressure(void **state)
{
	struct sensor_sample	 s;

	memset(&s, 0, sizeof(s));
	sensor_sample_pressure(&s);
	assert_int_equal(s.npresent, 0);
	assert_true(s.pressure == 0);

	s.r[SENSOR_LOAD].present = 1;
	s.r[SENSOR_LOAD].ratio = 0.4;
	s.r[SENSOR_MEMORY].present = 1;
	s.r[SENSOR_MEMORY].ratio = 0.7;
	s.r[SENSOR_PSI_IO].error = 1;		/* broken: ignored */
	s.r[SENSOR_PSI_IO].ratio = 50;
	s.r[SENSOR_TEMPERATURE].ratio = 9;	/* absent: ignored */
	sensor_sample_pressure(&s);
	assert_int_equal(s.npresent, 2);
	assert_true(NEAR(s.pressure, 0.7));
}

/*
 * The outlook: load from the run queue, temperature from its trend. Each
 * row is one sample after an optional previous one; the wanted ratios are
 * worked out by hand from sensor.h's rules (smoothing factors 1 - e^-dt/tau).
 */
struct outlook_row {
	const char	*what;
	int		 have_prev;
	double		 prev_mono, prev_running, prev_temp, prev_slope;
	double		 prev_base;
	double		 mono;
	double		 load1, running;	/* running -1: unknown */
	double		 temp, limit;
	double		 idle;			/* [limits] temperature_idle */
	long		 horizon;
	double		 want_load, want_temp;
};

static void
test_outlook(void **state)
{
	static const struct outlook_row rows[] = {
		{ "first: the run queue under a high average", 0,
		  0, 0, 0, 0, 0, 10, 4, 1, 50, 80, 0, 60,
		  1.0 / 2 / 2, 0 },
		{ "no run queue known: the average", 0,
		  0, 0, 0, 0, 0, 10, 3, -1, 50, 80, 0, 60, 3.0 / 2 / 2, 0 },
		{ "a calm host with a high average is calm", 1,
		  0, 0, 50, 0, 40, 1, 9, 0, 50, 80, 0, 60, 0, 0.25 },
		{ "a rise of the run queue is taken at once", 1,
		  0, 0, 50, 0, 40, 5, 8, 10, 50, 80, 0, 60, 8.0 / 2 / 2, 0.25 },
		{ "a fall of the run queue is smoothed over 5 s", 1,
		  0, 10, 50, 0, 40, 5, 8, 0, 50, 80, 0, 60,
		  0.36787944 * 10 / 2 / 2, 0.25 },
		{ "a rising temperature counts where it is heading", 1,
		  0, 0, 50, 0, 40, 1, 0, 0, 52, 80, 0, 60,
		  0, (52 + 60 * (1 - 0.90483742) * 2 - 40) / 40 },
		{ "horizon 0: the temperature alone", 1,
		  0, 0, 50, 0, 40, 1, 0, 0, 52, 80, 0, 0,
		  0, (52.0 - 40) / 40 },
		{ "the baseline is the coolest reading", 1,
		  0, 0, 50, 0, 45, 1, 0, 0, 42, 80, 0, 0, 0, 0 },
		{ "a configured baseline wins", 1,
		  0, 0, 50, 0, 45, 1, 0, 0, 50, 80, 30, 0,
		  0, (50.0 - 30) / 50 },
		{ "over the limit: at least the share used, falling or not", 1,
		  0, 0, 90, -1, 40, 1, 0, 0, 81, 80, 0, 60,
		  0, (81.0 - 40) / 40 },
		{ "cooling fast below the limit: room to go", 1,
		  0, 0, 79, -2, 40, 1, 0, 0, 77, 80, 0, 60, 0, 0 },
		{ "first sample of a hot host: 10 C of headroom", 0,
		  0, 0, 0, 0, 0, 3, 0, 0, 78, 80, 0, 60, 0, 0.8 },
		{ "the clock went back: a first sample", 1,
		  9, 0, 50, 3, 40, 5, 0, 0, 60, 80, 0, 60, 0, 0 },
	};
	struct sensor_sample	 prev, s;
	struct config		 c;
	size_t			 i;

	(void)state;
	for (i = 0; i < nitems(rows); i++) {
		const struct outlook_row *r = &rows[i];

		test_config(&c, NULL);
		c.temperature_idle = r->idle;
		c.temperature_horizon = r->horizon;
		memset(&prev, 0, sizeof(prev));
		prev.trend.have = r->have_prev;
		prev.trend.mono = r->prev_mono;
		prev.trend.running = r->prev_running;
		prev.trend.temp = r->prev_temp;
		prev.trend.slope = r->prev_slope;
		prev.trend.base = r->prev_base;
		memset(&s, 0, sizeof(s));
		s.r[SENSOR_LOAD].present = 1;
		s.r[SENSOR_LOAD].ncpu = 2;
		s.r[SENSOR_LOAD].load1 = r->load1;
		s.r[SENSOR_LOAD].running = r->running;
		s.r[SENSOR_LOAD].limit = 2;
		s.r[SENSOR_LOAD].value = r->load1 / 2;
		s.r[SENSOR_LOAD].ratio = r->load1 / 2 / 2;	/* as read */
		s.r[SENSOR_TEMPERATURE].present = 1;
		s.r[SENSOR_TEMPERATURE].value = r->temp;
		s.r[SENSOR_TEMPERATURE].limit = r->limit;
		sensor_outlook(&c, &prev, r->mono, &s);
		if (!NEAR(s.r[SENSOR_LOAD].ratio, r->want_load))
			fail_msg("%s: load ratio %g, want %g", r->what,
			    s.r[SENSOR_LOAD].ratio, r->want_load);
		if (!NEAR(s.r[SENSOR_TEMPERATURE].ratio, r->want_temp))
			fail_msg("%s: temperature ratio %g, want %g", r->what,
			    s.r[SENSOR_TEMPERATURE].ratio, r->want_temp);
		if (!NEAR(s.pressure, fmax(r->want_load, r->want_temp)))
			fail_msg("%s: pressure %g", r->what, s.pressure);
		assert_true(s.trend.have);
		assert_true(s.trend.mono == r->mono);
	}
}

/*
 * The readers on fake hosts
 */

static void
test_host_idle(void **state)
{
	struct sensor_sample	 s;
	struct config		 c;
	int			 i;

	sample_of("host-idle", &c, &s);
	for (i = 0; i < SENSOR_COUNT; i++)
		assert_int_equal(s.r[i].present, i != SENSOR_QUEUE_DISK &&
		    i != SENSOR_MTA_QUEUE);
	assert_int_equal(s.npresent, 6);
	/* "0.20 ... 1/312": the one running is the reader: no load now */
	assert_true(NEAR(s.r[SENSOR_LOAD].value, 0));
	assert_true(NEAR(s.r[SENSOR_LOAD].ratio, 0));
	assert_string_equal(s.r[SENSOR_LOAD].detail,
	    "4 cpus, loadavg 0.20, running 0.0");
	assert_true(NEAR(s.r[SENSOR_PSI_CPU].value, 0.015));
	assert_true(NEAR(s.r[SENSOR_PSI_CPU].limit, 0.8));
	assert_true(NEAR(s.r[SENSOR_PSI_IO].value, 0.002));
	assert_true(NEAR(s.r[SENSOR_MEMORY].value, 0.9));
	assert_true(NEAR(s.r[SENSOR_MEMORY].ratio, 0.1 / 0.9));
	assert_true(NEAR(s.r[SENSOR_TEMPERATURE].value, 35));
	assert_true(NEAR(s.r[SENSOR_TEMPERATURE].limit, 100));
	/* at its own baseline, with no trend yet: no headroom used */
	assert_true(NEAR(s.r[SENSOR_TEMPERATURE].ratio, 0));
	assert_true(NEAR(s.pressure, 0.1 / 0.9));	/* memory */
	assert_true(s.pressure < 0.5);
}

static void
test_host_overloaded(void **state)
{
	struct sensor_sample	 s;
	struct config		 c;

	sample_of("host-overloaded", &c, &s);
	assert_int_equal(s.npresent, 6);
	assert_true(NEAR(s.r[SENSOR_LOAD].ratio, 38.5 / 4 / 2));
	assert_true(NEAR(s.r[SENSOR_PSI_CPU].ratio, 0.9231 / 0.8));
	assert_true(NEAR(s.r[SENSOR_PSI_IO].ratio, 0.71 / 0.6));
	assert_true(NEAR(s.r[SENSOR_PSI_MEMORY].ratio, 0.455 / 0.4));
	assert_true(NEAR(s.r[SENSOR_MEMORY].ratio, 0.1 / 0.03));
	/* 99 C, limit 105 - 5: the baseline is kept 10 C below the limit */
	assert_true(NEAR(s.r[SENSOR_TEMPERATURE].ratio, (99.0 - 90) / 10));
	assert_true(NEAR(s.pressure, 38.5 / 4 / 2));
	assert_true(s.pressure >= 1);
}

static void
test_host_malformed(void **state)
{
	struct sensor_sample	 s;
	struct config		 c;
	struct capture		 cap;
	char			*log;
	int			 i;

	capture_begin(&cap);
	sample_of("host-malformed", &c, &s);
	log = capture_end(&cap);
	for (i = 0; i <= SENSOR_TEMPERATURE; i++) {
		assert_false(s.r[i].present);
		if (!s.r[i].error)
			fail_msg("%s: not an error: %s", s.r[i].name,
			    s.r[i].why);
		assert_non_null(strstr(s.r[i].why, "malformed"));
	}
	assert_int_equal(s.npresent, 0);
	assert_true(s.pressure == 0);
	assert_int_equal(count(log, "warning: sensor "), 6);
	free(log);
}

static void
test_host_nopsi(void **state)
{
	struct sensor_sample	 s;
	struct config		 c;
	int			 i;

	sample_of("host-nopsi", &c, &s);
	for (i = SENSOR_PSI_CPU; i <= SENSOR_PSI_MEMORY; i++) {
		assert_false(s.r[i].present);
		assert_false(s.r[i].error);		/* absent, not broken */
		assert_non_null(strstr(s.r[i].why, "no PSI"));
	}
	assert_false(s.r[SENSOR_TEMPERATURE].present);
	assert_false(s.r[SENSOR_TEMPERATURE].error);
	assert_true(s.r[SENSOR_LOAD].present);
	assert_true(NEAR(s.r[SENSOR_LOAD].value, 0.25));	/* 2 cpus */
	assert_int_equal(s.npresent, 2);
	assert_true(NEAR(s.pressure, 0.2));	/* memory: 0.1 / 0.5 */
}

static void
test_host_missing(void **state)
{
	struct sensor_sample	 s;
	struct config		 c;

	/* a root with nothing in it: everything absent, nothing zero */
	sample_of("no-such-host", &c, &s);
	assert_int_equal(s.npresent, 0);
	assert_false(s.r[SENSOR_LOAD].error);
	assert_false(s.r[SENSOR_MEMORY].error);
	assert_false(s.r[SENSOR_TEMPERATURE].error);
}

static void
test_thermal_zones(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = data_root("host-thermal");

	test_config(&c, root);
	/* zone 1: passive 85 - 5 (the disabled 0 trip and "active" skipped);
	 * zone 0: lowest critical 105 - 5; zone 2 unreadable; zone 3 none */
	sensor_read(SENSOR_TEMPERATURE, &c, NULL, -1, &r);
	assert_true(r.present);
	assert_false(r.error);
	assert_true(NEAR(r.value, 62) && NEAR(r.limit, 80));
	assert_string_equal(r.detail, "thermal_zone1 x86_pkg_temp");

	c.temperature_margin = 0;
	sensor_read(SENSOR_TEMPERATURE, &c, NULL, -1, &r);
	assert_true(NEAR(r.limit, 85));

	c.temperature = 90;			/* configured: the hottest */
	sensor_read(SENSOR_TEMPERATURE, &c, NULL, -1, &r);
	assert_true(NEAR(r.value, 70) && NEAR(r.limit, 90));
	assert_string_equal(r.detail, "thermal_zone3 pch_cannonlake");
	free(root);
}

static void
test_thermal_passive_first(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = scratch_new();

	scratch_put(root, "sys/class/thermal/thermal_zone7/temp", "50000\n");
	scratch_put(root, "sys/class/thermal/thermal_zone7/trip_point_0_type",
	    "passive\n");
	scratch_put(root, "sys/class/thermal/thermal_zone7/trip_point_0_temp",
	    "75000\n");
	scratch_put(root, "sys/class/thermal/thermal_zone7/trip_point_1_type",
	    "critical\n");
	scratch_put(root, "sys/class/thermal/thermal_zone7/trip_point_1_temp",
	    "100000\n");
	test_config(&c, root);
	sensor_read(SENSOR_TEMPERATURE, &c, NULL, -1, &r);
	assert_true(r.present);
	assert_true(NEAR(r.limit, 70));		/* passive 75 - 5 */
	assert_string_equal(r.detail, "thermal_zone7");
	scratch_free(root);
}

static void
test_thermal_notrip(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = data_root("host-notrip");

	test_config(&c, root);
	sensor_read(SENSOR_TEMPERATURE, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_false(r.error);
	assert_non_null(strstr(r.why, "55.0 C"));
	assert_non_null(strstr(r.why, "[limits] temperature"));

	c.temperature = 80;
	sensor_read(SENSOR_TEMPERATURE, &c, NULL, -1, &r);
	assert_true(r.present);
	assert_true(NEAR(r.ratio, 55.0 / 80));
	free(root);
}

static void
test_cpu_count_missing(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = scratch_new();

	/* a fake root without proc/stat: no guessing from this host */
	scratch_put(root, "proc/loadavg", "1.00 1.00 1.00 1/1 1\n");
	test_config(&c, root);
	sensor_read(SENSOR_LOAD, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_true(r.error);
	assert_non_null(strstr(r.why, "cannot count CPUs"));

	scratch_put(root, "proc/stat", "cpu  1 1\nintr 1\n");
	sensor_read(SENSOR_LOAD, &c, NULL, -1, &r);
	assert_true(r.error);
	assert_non_null(strstr(r.why, "no cpuN"));
	scratch_free(root);
}

static void
test_odd_files(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = scratch_new(), *big, *dir;

	/* longer than the bounded read: an error, not a partial parse */
	big = xmalloc(SENSOR_FILE_MAX + 100);
	memset(big, ' ', SENSOR_FILE_MAX + 99);
	memcpy(big, "1.0 1.0 1.0 1/1 1", 17);
	big[SENSOR_FILE_MAX + 99] = '\0';
	scratch_put(root, "proc/loadavg", big);
	scratch_put(root, "proc/stat", "cpu0 1\n");
	test_config(&c, root);
	sensor_read(SENSOR_LOAD, &c, NULL, -1, &r);
	assert_true(r.error);
	free(big);

	/* a directory where a file should be: an error, not absent */
	dir = xasprintf("%s/proc/meminfo", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	sensor_read(SENSOR_MEMORY, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_true(r.error);
	free(dir);

	/* a root given with trailing slashes reads the same files */
	scratch_put(root, "proc/pressure/cpu", "some avg10=40.00 avg60=0 "
	    "avg300=0 total=1\n");
	c.proc_root = xasprintf("%s///", root);
	sensor_read(SENSOR_PSI_CPU, &c, NULL, -1, &r);
	assert_true(r.present);
	assert_true(NEAR(r.ratio, 0.5));
	sensor_read(SENSOR_PSI_IO, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_non_null(strstr(r.why, "/proc/pressure/io"));
	assert_null(strstr(r.why, "//"));
	free(c.proc_root);
	scratch_free(root);
}

static void
test_rewrite_and_log_once(void **state)
{
	struct sensor_sample	 s[4];
	struct config		 c;
	struct capture		 cap;
	char			*root = scratch_new(), *log;

	scratch_put(root, "proc/stat", "cpu0 1\ncpu1 1\n");
	scratch_put(root, "proc/loadavg", "1.00 1.00 1.00 3/10 1\n");
	test_config(&c, root);
	capture_begin(&cap);
	sensor_sample_read(&c, NULL, -1, NULL, 0, &s[0]);
	assert_true(NEAR(s[0].r[SENSOR_LOAD].value, 0.5));
	scratch_put(root, "proc/loadavg", "garbage\n");
	sensor_sample_read(&c, NULL, -1, &s[0], 1, &s[1]);
	sensor_sample_read(&c, NULL, -1, &s[1], 2, &s[2]);
	assert_true(s[2].r[SENSOR_LOAD].error);
	scratch_put(root, "proc/loadavg", "3.00 1.00 1.00 7/10 1\n");
	sensor_sample_read(&c, NULL, -1, &s[2], 3, &s[3]);
	log = capture_end(&cap);
	assert_true(NEAR(s[3].r[SENSOR_LOAD].value, 1.5));
	/* two samples with the broken file, one warning; then one "again" */
	assert_int_equal(count(log, "sensor load: "), 2);
	assert_int_equal(count(log, "malformed"), 1);
	assert_int_equal(count(log, "readable again"), 1);
	free(log);
	scratch_free(root);
}

static void
test_queue_disk(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = scratch_new(), *gone;

	test_config(&c, root);
	sensor_read(SENSOR_QUEUE_DISK, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_false(r.error);

	sensor_read(SENSOR_QUEUE_DISK, &c, root, -1, &r);
	assert_true(r.present);
	assert_true(r.value > 0);
	assert_true(NEAR(r.ratio, (256.0 * (1 << 20)) / r.value) ||
	    r.ratio == SENSOR_RATIO_MAX);

	c.queue_disk_free_min = 1LL << 62;	/* more than any disk */
	sensor_read(SENSOR_QUEUE_DISK, &c, root, -1, &r);
	assert_true(r.ratio > 1);

	gone = xasprintf("%s/gone", root);
	sensor_read(SENSOR_QUEUE_DISK, &c, gone, -1, &r);
	assert_true(r.error);			/* the MTA's dir is missing */
	free(gone);
	scratch_free(root);
}

static void
test_mta_queue(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;

	test_config(&c, NULL);
	sensor_read(SENSOR_MTA_QUEUE, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_non_null(strstr(r.why, "MTA not reachable"));
	sensor_read(SENSOR_MTA_QUEUE, &c, NULL, 10000, &r);
	assert_true(r.present);
	assert_true(NEAR(r.ratio, 0.5));
	sensor_read(SENSOR_MTA_QUEUE, &c, NULL, 0, &r);
	assert_true(r.present);
	assert_true(r.ratio == 0);
}

static void
test_limit_off(void **state)
{
	struct sensor_reading	 r;
	struct config		 c;
	char			*root = data_root("host-idle");

	test_config(&c, root);
	c.load_per_cpu = 0;
	sensor_read(SENSOR_LOAD, &c, NULL, -1, &r);
	assert_false(r.present);
	assert_false(r.error);
	assert_non_null(strstr(r.why, "off"));
	free(root);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_loadavg),
		cmocka_unit_test(test_parse_running),
		cmocka_unit_test(test_parse_cpu_count),
		cmocka_unit_test(test_parse_psi),
		cmocka_unit_test(test_parse_meminfo),
		cmocka_unit_test(test_parse_millicelsius),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_zone_limit),
		cmocka_unit_test(test_thermal_pick),
		cmocka_unit_test(test_sample_pressure),
		cmocka_unit_test(test_outlook),
		cmocka_unit_test(test_host_idle),
		cmocka_unit_test(test_host_overloaded),
		cmocka_unit_test(test_host_malformed),
		cmocka_unit_test(test_host_nopsi),
		cmocka_unit_test(test_host_missing),
		cmocka_unit_test(test_thermal_zones),
		cmocka_unit_test(test_thermal_passive_first),
		cmocka_unit_test(test_thermal_notrip),
		cmocka_unit_test(test_cpu_count_missing),
		cmocka_unit_test(test_odd_files),
		cmocka_unit_test(test_rewrite_and_log_once),
		cmocka_unit_test(test_queue_disk),
		cmocka_unit_test(test_mta_queue),
		cmocka_unit_test(test_limit_off),
	};

	log_init("test_sensor", 1, 0);
	return cmocka_run_group_tests_name("sensor", tests, NULL, NULL);
}
