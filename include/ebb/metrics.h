/*
 * metrics.h - the numbers ebbd publishes over HTTP, and their renderings
 *
 * ebbd's HTTP side (src/daemon/http.c) asks the parent for the status
 * object (the JSON of "ebbctl status --json"), reads it into a struct
 * metrics with metrics_from_status, and renders that as Prometheus text
 * for /metrics or as the public summary for /summary.json and the page.
 * All of it is pure: text in, plain data out, text back, for the tests.
 *
 * The summary is meant to face users during an outage: counts, rate, ETA
 * and a sentence in plain words; never a queue id or an address.
 */
#ifndef EBB_METRICS_H
#define EBB_METRICS_H

#include <stddef.h>
#include <time.h>

#define METRICS_SENSORS_MAX	16
#define METRICS_NAME_MAX	32

enum metrics_queue {
	METRICS_INCOMING, METRICS_ACTIVE, METRICS_DEFERRED, METRICS_HOLD,
	METRICS_QUEUE_COUNT
};

enum metrics_risk {
	METRICS_RISK_EXPIRED, METRICS_RISK_1H, METRICS_RISK_6H,
	METRICS_RISK_24H, METRICS_RISK_LATER, METRICS_RISK_COUNT
};

struct metrics_sensor {
	char	 name[METRICS_NAME_MAX];
	int	 present;
	double	 ratio;		/* NAN when absent */
};

/* plain data; a double is NAN when unknown */
struct metrics {
	double	 pressure;
	size_t	 nsensors;
	struct metrics_sensor sensor[METRICS_SENSORS_MAX];
	double	 rate;		/* messages/s granted */
	long	 window;
	long	 backlog[METRICS_QUEUE_COUNT];
	long	 parked;
	long	 released_total;
	long	 expired_total;
	long	 at_risk[METRICS_RISK_COUNT];
	double	 scan_duration;	/* seconds, the last queue scan */
	double	 eta;		/* seconds until the parked mail is out */
	int	 paused;
	int	 stopped;
	long	 uptime;
};

/* metrics_risk_label - "expired", "lt1h", "lt6h", "lt24h", "later" */
const char	*metrics_risk_label(int bucket);

/*
 * metrics_from_status - read the status object (text of len bytes) into
 * *m. Members missing or of the wrong type are left unknown (NAN, 0);
 * returns -1 and *err_r (allocated) only when text is not a JSON object.
 */
int		 metrics_from_status(const char *text, size_t len,
		    struct metrics *m, char **err_r);

/*
 * metrics_render - *m as Prometheus text exposition format (version
 * 0.0.4): a # HELP and # TYPE line per family, unknown values left out.
 * Returns allocated text.
 */
char		*metrics_render(const struct metrics *m);

/*
 * metrics_summary - the public summary as a JSON object (allocated text):
 * state ("normal", "recovering", "busy", "paused"), words (one plain
 * paragraph), waiting, rate, eta, pressure, released_total, time (now)
 */
char		*metrics_summary(const struct metrics *m, time_t now);

#endif
