/*
 * sensor.h - how loaded this host is, one reading per sensor
 *
 * Each sensor has a value, a limit and their ratio; pressure is the largest
 * ratio over the sensors that are present (so p >= 1 means a limit is
 * reached). A sensor the host lacks is absent and ignored, never zero; a file
 * that is there but cannot be read or parsed is an error, also ignored for
 * the pressure, and logged once when it starts (see sensor_sample_read).
 *
 * Where the readings come from. proc_root and sys_root ([sensors]) stand in
 * for "/" (a trailing "/" is dropped), so a test can point both at a fake
 * tree that holds proc/ and sys/ side by side:
 *
 *   load         PROC/proc/loadavg            the smaller of the 1-minute
 *                PROC/proc/stat               average and the tasks running
 *                                             now (smoothed, see Outlook),
 *                                             divided by the count of "cpuN"
 *                                             lines (sysconf() only when
 *                                             proc_root is "/" and stat has
 *                                             none); limit load_per_cpu
 *   psi_cpu      PROC/proc/pressure/cpu       "some" avg10, a percentage
 *   psi_io       PROC/proc/pressure/io        in the file, a fraction here;
 *   psi_memory   PROC/proc/pressure/memory    limits psi_cpu, psi_io, ...
 *   memory       PROC/proc/meminfo            MemAvailable / MemTotal;
 *                                             limit mem_available_min
 *   temperature  SYS/sys/class/thermal/thermal_zoneN/temp      millidegrees
 *                SYS/sys/class/thermal/thermal_zoneN/type      zone name
 *                .../thermal_zoneN/trip_point_M_type, _temp    trip points
 *   queue_disk   statvfs(queue_dir)           free bytes for unprivileged
 *                                             users; limit
 *                                             queue_disk_free_min
 *   mta_queue    given by the MTA backend     messages leaving (mta_depth);
 *                                             limit mta_active_max
 *
 * Ratios. For load, PSI, temperature and mta_queue a reading grows with
 * load: ratio = value / limit. For memory and queue_disk the reading is what
 * is left (available fraction, free bytes) and the limit is the least that
 * may be left: ratio = limit / value, so value == limit gives 1 and it grows
 * without bound as the space runs out. Every ratio is clamped to
 * 0..SENSOR_RATIO_MAX. A limit of 0 (or, for memory, a limit >= 1) turns a
 * sensor off: it is then absent.
 *
 * Temperature. Each zone's limit is [limits] temperature when that is set
 * (> 0); otherwise the zone's lowest "passive" trip point (where the
 * platform starts slowing itself down) minus temperature_margin, or failing
 * that its lowest "critical" one minus the margin (trip points at or below
 * 0 are disabled ones and are skipped). The sensor reports the zone with
 * the largest ratio, which is the hottest one when they share a limit. Zones that cannot be read (some drivers fail reads
 * while their device sleeps) are skipped; the sensor is an error only when
 * no zone could be read, and absent when no zone has a limit.
 *
 * Outlook (sensor_outlook). Two signals lag what the host is doing, and a
 * controller that acts on their lag bursts and then stalls: the 1-minute
 * load average trails the run queue by a minute, and a temperature trails
 * the heat put in by its thermal time constant. So the pressure is made
 * from where they are heading, with the previous sample:
 *   - load counts the smaller of the 1-minute average and the tasks running
 *     now (a rise taken at once, a fall smoothed over SENSOR_RUNNING_TAU
 *     seconds): a host that has calmed is seen calm within seconds, not a
 *     minute, and a brief spike alone is not a load (the average must
 *     agree);
 *   - temperature counts the share of the headroom, from the idle baseline
 *     to the limit, that the zone will have used temperature_horizon
 *     seconds from now at its present trend (smoothed over
 *     SENSOR_SLOPE_TAU seconds): ratio = (T + H * dT/dt - base) / (limit -
 *     base). Keeping it below 1 keeps T from ever crossing the limit: T
 *     may approach it no faster than (limit - T) / H. The baseline is
 *     [limits] temperature_idle, or the coolest reading seen, and never
 *     closer than 10 C below the limit. At or over the limit the ratio is
 *     at least 1, whatever the trend.
 * The reading's value and limit stay what the file says (for load, the
 * effective load per CPU); only the ratio looks ahead.
 *
 * Files are read with one bounded read (SENSOR_FILE_MAX bytes, more is an
 * error); the parsers take a buffer and its length, need no NUL and never
 * read past it, so they can be fuzzed. NaN, infinities and negative numbers
 * are malformed (a temperature may be below 0 but not below absolute zero).
 */
#ifndef EBB_SENSOR_H
#define EBB_SENSOR_H

#include <stddef.h>

struct config;

#define SENSOR_RATIO_MAX	100.0	/* ratio cap (nothing left, 0 limit) */
#define SENSOR_FILE_MAX		8192	/* most bytes read from one file */
#define SENSOR_STAT_MAX		65536	/* proc/stat: "cpuN" lines for ~900 */
#define SENSOR_ZONES_MAX	256	/* thermal zones looked at */
#define SENSOR_TRIPS_MAX	32	/* trip points looked at per zone */
#define SENSOR_RUNNING_TAU	5.0	/* s, smoothing of the running tasks */
#define SENSOR_SLOPE_TAU	10.0	/* s, smoothing of the temperature trend */
#define SENSOR_HEADROOM_MIN	10.0	/* C, least headroom above the baseline */

enum sensor_id {
	SENSOR_LOAD,
	SENSOR_PSI_CPU,
	SENSOR_PSI_IO,
	SENSOR_PSI_MEMORY,
	SENSOR_MEMORY,
	SENSOR_TEMPERATURE,
	SENSOR_QUEUE_DISK,
	SENSOR_MTA_QUEUE,
	SENSOR_COUNT
};

/* one sensor's reading; plain data */
struct sensor_reading {
	const char	*name;		/* sensor_name(id), static */
	const char	*unit;		/* sensor_unit(id), static */
	int		 present;	/* value, limit and ratio are valid */
	int		 error;		/* there, but unreadable or malformed */
	double		 value;
	double		 limit;
	double		 ratio;
	char		 detail[64];	/* present: where from ("4 cpus") */
	char		 why[256];	/* absent or error: the reason */
	/* load only: what the outlook starts from */
	long		 ncpu;
	double		 load1;		/* the 1-minute average */
	double		 running;	/* tasks running now; -1 unknown */
};

/* what the outlook carries from one sample to the next; plain data */
struct sensor_trend {
	int		 have;		/* the fields below are set */
	double		 mono;		/* when the sample was taken */
	double		 running;	/* smoothed running tasks; -1 none */
	double		 temp;		/* C, the last temperature; NAN none */
	double		 slope;		/* C/s, smoothed */
	double		 base;		/* C, the idle baseline; NAN none */
};

/* every sensor at one moment; plain data */
struct sensor_sample {
	struct sensor_reading r[SENSOR_COUNT];	/* indexed by enum sensor_id */
	double		 pressure;	/* largest ratio; 0 if npresent is 0 */
	int		 npresent;	/* present sensors; 0: no pressure */
	struct sensor_trend trend;	/* for the next sample's outlook */
};

/* one thermal zone, as sensor_thermal_pick takes it */
struct sensor_zone {
	int		 index;		/* N of thermal_zoneN */
	double		 temp;		/* degrees C */
	double		 critical;	/* lowest critical trip, C; 0 = none */
	double		 passive;	/* lowest passive trip, C; 0 = none */
	char		 type[32];	/* "acpitz", "x86_pkg_temp", ... */
};

/* sensor_name - "load", "psi_cpu", ... "mta_queue"; sensor_unit - its unit */
const char	*sensor_name(enum sensor_id);
const char	*sensor_unit(enum sensor_id);

/*
 * Parsers: pure, bounded by len, no NUL needed. Each returns 0 and sets its
 * result, or returns -1 for malformed input.
 *
 * sensor_parse_loadavg - the 1-minute average from a proc/loadavg text
 * sensor_parse_cpu_count - the count of "cpuN" lines of a proc/stat text
 * sensor_parse_psi - the "some" avg10 of a proc/pressure file, as a fraction
 * sensor_parse_meminfo - MemAvailable / MemTotal of a proc/meminfo text
 * sensor_parse_millicelsius - a sysfs temperature ("45000\n") in degrees C
 */
int	 sensor_parse_loadavg(const char *, size_t, double *load_r);
int	 sensor_parse_running(const char *, size_t, long *running_r);
int	 sensor_parse_cpu_count(const char *, size_t, long *ncpu_r);
int	 sensor_parse_psi(const char *, size_t, double *some_avg10_r);
int	 sensor_parse_meminfo(const char *, size_t, double *available_r);
int	 sensor_parse_millicelsius(const char *, size_t, double *celsius_r);

/*
 * sensor_ratio - value against limit for sensor id (see "Ratios" above),
 * clamped to 0..SENSOR_RATIO_MAX.
 */
double	 sensor_ratio(enum sensor_id, double value, double limit);

/*
 * sensor_zone_limit - the limit of one zone: configured when > 0, else its
 * critical (or passive) trip point minus margin; 0 when it has none.
 */
double	 sensor_zone_limit(const struct sensor_zone *, double configured,
	    double margin);

/*
 * sensor_thermal_pick - fill the temperature reading r from n zones (pure):
 * present with the zone of the largest ratio, or absent with the reason
 * when n is 0 or no zone has a limit.
 */
void	 sensor_thermal_pick(const struct sensor_zone *, size_t n,
	    double configured, double margin, struct sensor_reading *r);

/*
 * sensor_read - read one sensor under cfg's roots into *r (never fails:
 * problems become an absent or error reading). queue_dir is the MTA's queue
 * directory (NULL: queue_disk is absent); mta_depth the messages on their
 * way out (mta.h; < 0: mta_queue is absent).
 */
void	 sensor_read(enum sensor_id, const struct config *cfg,
	    const char *queue_dir, long mta_depth, struct sensor_reading *r);

/*
 * sensor_sample_pressure - set pressure and npresent of s from its readings
 */
void	 sensor_sample_pressure(struct sensor_sample *s);

/*
 * sensor_outlook - the Outlook above (pure): with prev (NULL, or one
 * without a trend: the first sample) taken earlier on the same monotonic
 * clock as mono, set the load and temperature ratios of s from where they
 * are heading, its trend for the next sample, and its pressure.
 */
void	 sensor_outlook(const struct config *cfg,
	    const struct sensor_sample *prev, double mono,
	    struct sensor_sample *s);

/*
 * sensor_sample_read - read every sensor and the pressure into *sample_r,
 * at mono seconds on a clock that does not jump (the outlook's trend).
 *
 * prev is the caller's previous sample (NULL on the first call): a sensor
 * error is logged (log_warn) when it starts or its reason changes, and its
 * end when the sensor reads again, so a broken file is one log line, not one
 * per second. sample_r and prev may not be the same object.
 */
void	 sensor_sample_read(const struct config *cfg, const char *queue_dir,
	    long mta_depth, const struct sensor_sample *prev, double mono,
	    struct sensor_sample *sample_r);

#endif
