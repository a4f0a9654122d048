/*
 * test_lab_proc.c - the modelled host's fake /proc and /sys, read back
 *
 * lab_host_write_proc writes under a mkdtemp directory; ebb's own sensor
 * reader (sensor_sample_read, with proc_root and sys_root there and the
 * limits of ebb.conf(5)) must see the host's state: load, PSI, memory,
 * temperature and its trip point, idle, busy and while rebooting. Nothing
 * is written into the source tree.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/config.h"
#include "ebb/sensor.h"
#include "ebb/util.h"
#include "lab/host.h"

/* owe - count deliveries, to be replaced */
static void
owe(void *arg, const struct lab_host_event *ev)
{
	if (ev->kind == LAB_HOST_DELIVERED)
		(*(long *)arg)++;
}

/* keep_busy - k more messages at t0, each replaced when delivered */
static void
keep_busy(struct lab_host *h, long k, double t0, double t_end,
    uint64_t *id)
{
	double	 te;
	long	 owed = 0;

	lab_host_advance(h, t0, NULL, NULL);
	for (; k > 0; k--)
		lab_host_offer(h, t0, (*id)++);
	while ((te = lab_host_next_event(h)) <= t_end) {
		lab_host_advance(h, te, owe, &owed);
		for (; owed > 0; owed--)
			lab_host_offer(h, te, (*id)++);
	}
	lab_host_advance(h, t_end, NULL, NULL);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* entries - how many names dir holds, besides . and .. */
static int
entries(const char *root, const char *rel)
{
	char		*dir = xasprintf("%s/%s", root, rel);
	struct dirent	*de;
	DIR		*dp;
	int		 n = 0;

	if ((dp = opendir(dir)) == NULL)
		fail_msg("%s: %s", dir, strerror(errno));
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	free(dir);
	return n;
}

/* sensors_of - ebb's sensors on root, with the limits of ebb.conf(5) */
static void
sensors_of(const char *root, struct sensor_sample *s)
{
	struct config	 c;

	memset(&c, 0, sizeof(c));
	c.proc_root = c.sys_root = (char *)root;
	c.interval = 1;
	c.load_per_cpu = 2.0;
	c.psi_cpu = 0.8;
	c.psi_io = 0.6;
	c.psi_memory = 0.4;
	c.mem_available_min = 0.1;
	c.temperature = 0;
	c.temperature_margin = 5;
	c.critical = 1.5;
	sensor_sample_read(&c, NULL, -1, NULL, 0, s);
}

/*
 * expect_sensors - the sensors see the host's state, to the precision of
 * the files (loadavg and PSI 2 decimals, temperature in millidegrees)
 */
static void
expect_sensors(const char *root, const struct lab_host_params *p,
    const struct lab_host_state *st)
{
	struct sensor_sample	 s;
	const struct sensor_reading *r;
	char			 buf[256], *path;
	FILE			*fp;
	long			 rr, tt;
	size_t			 len;

	sensors_of(root, &s);
	r = &s.r[SENSOR_LOAD];
	assert_true(r->present);
	/* the smaller of the 1-minute average and the tasks running now */
	assert_true(fabs(r->value - fmin(st->load1,
	    (double)lround(st->runnable)) / p->cpus) <= 0.005 / p->cpus +
	    1e-9);
	r = &s.r[SENSOR_PSI_CPU];
	assert_true(r->present);
	assert_true(fabs(r->value - st->psi_cpu_avg10) <= 5e-5 + 1e-9);
	r = &s.r[SENSOR_PSI_IO];
	assert_true(r->present);
	assert_true(fabs(r->value - st->psi_io_avg10) <= 5e-5 + 1e-9);
	r = &s.r[SENSOR_PSI_MEMORY];
	assert_true(r->present && r->value == 0);
	r = &s.r[SENSOR_MEMORY];
	assert_true(r->present);
	assert_true(fabs(r->value - st->mem_available) < 1e-9);
	r = &s.r[SENSOR_TEMPERATURE];
	assert_true(r->present);
	assert_true(fabs(r->value - st->temperature) <= 5e-4 + 1e-9);
	/* the passive trip point, less the margin */
	assert_true(fabs(r->limit - (p->trip_passive - 5)) < 1e-9);
	assert_string_equal(r->detail, "thermal_zone0 ebb-lab");

	/* "R/T": the runnable count and the reader, as the kernel has it */
	path = xasprintf("%s/proc/loadavg", root);
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	fclose(fp);
	free(path);
	if (sscanf(buf, "%*f %*f %*f %ld/%ld", &rr, &tt) != 2)
		fail_msg("proc/loadavg: \"%s\"", buf);
	assert_int_equal(rr, lround(st->runnable) + 1);
	assert_true(tt > rr);

	/* only the files the kernel has: no temporary file left behind */
	assert_int_equal(entries(root, "proc"), 4);
	assert_int_equal(entries(root, "proc/pressure"), 3);
	assert_int_equal(entries(root, "sys/class/thermal/thermal_zone0"),
	    6);
}

static void
test_write_proc(void **state)
{
	const char		*tmp = getenv("TMPDIR");
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct lab_host_state	 st, before;
	uint64_t		 id = 1;
	char			*root, *missing, *err = NULL;

	root = xasprintf("%s/ebb-test-lab-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(root) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	lab_host_params_default(&p);
	if ((h = lab_host_new(&p, 0, &err)) == NULL)
		fail_msg("%s", err);

	/* idle */
	lab_host_state(h, &st);
	if (lab_host_write_proc(h, root, &err) == -1)
		fail_msg("%s", err);
	expect_sensors(root, &p, &st);

	/* busy for 30 s: every sensor moved; the files are replaced */
	keep_busy(h, 5, 0, 30, &id);
	before = st;
	lab_host_state(h, &st);
	assert_true(st.load1 > before.load1 && st.psi_io_avg10 > 0 &&
	    st.psi_cpu_avg10 > 0 && st.temperature > before.temperature &&
	    st.mem_available < before.mem_available);
	if (lab_host_write_proc(h, root, &err) == -1)
		fail_msg("%s", err);
	expect_sensors(root, &p, &st);

	/* overloaded until it trips (about 51 s), then down and cooling */
	keep_busy(h, 30, 30, 100, &id);
	lab_host_state(h, &st);
	assert_true(st.reboots == 1 && !st.up && st.load1 == 0);
	if (lab_host_write_proc(h, root, &err) == -1)
		fail_msg("%s", err);
	expect_sensors(root, &p, &st);

	/* an error names the path */
	missing = xasprintf("%s/not/there", root);
	assert_int_equal(lab_host_write_proc(h, missing, &err), -1);
	assert_non_null(strstr(err, missing));
	free(err);
	free(missing);

	lab_host_free(&h);
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_proc),
	};

	return cmocka_run_group_tests_name("lab_proc", tests, NULL, NULL);
}
