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

#include "ebb/msg.h"

#define METRICS_SENSORS_MAX	16
#define METRICS_NAME_MAX	32
#define METRICS_LABELS_MAX	32	/* milter reasons, SPF results kept */
#define METRICS_BUCKETS_MAX	16	/* latency buckets, "more" included */
#define METRICS_ETA_MAX		(100.0 * 365 * 86400)	/* seconds; more is unknown */

enum metrics_risk {
	METRICS_RISK_EXPIRED, METRICS_RISK_1H, METRICS_RISK_6H,
	METRICS_RISK_24H, METRICS_RISK_LATER, METRICS_RISK_COUNT
};

struct metrics_sensor {
	char	 name[METRICS_NAME_MAX];
	int	 present;
	double	 ratio;		/* NAN when absent */
	double	 value;		/* the raw reading, in its unit; NAN */
	double	 limit;		/* what ratio 1 is, in the same unit; NAN */
};

/*
 * The queue histograms, with postfix_exporter's buckets so that the
 * dashboards built for postfix_showq_message_size_bytes and
 * postfix_showq_message_age_seconds read ebb's alike
 */
#define METRICS_SIZE_BUCKETS	7	/* 1e3 .. 1e9 bytes, then +Inf */
#define METRICS_AGE_BUCKETS	8	/* 1e1 .. 1e8 seconds, then +Inf */
#define METRICS_QUEUES_MAX	8

extern const double metrics_size_bounds[METRICS_SIZE_BUCKETS];
extern const double metrics_age_bounds[METRICS_AGE_BUCKETS];

/* one queue's messages; each bucket its own count, not cumulative */
struct metrics_hist {
	char	 name[METRICS_NAME_MAX];
	long	 count;
	long	 size[METRICS_SIZE_BUCKETS + 1];
	double	 size_sum;	/* bytes */
	long	 age[METRICS_AGE_BUCKETS + 1];
	double	 age_sum;	/* seconds */
};

/* a count under a name checked fit for a label value */
struct metrics_count {
	char	 name[METRICS_NAME_MAX];
	long	 n;
};

/*
 * the status object's "milter" (parent_milter.c); a count is -1 when
 * unknown. The latency histogram is kept whole or not at all (nbuckets
 * 0): bound_us[] increases, the last bucket is "more" (+Inf), and
 * bucket[] holds each bucket's own count, not yet cumulative.
 */
struct metrics_milter {
	int	 present;
	long	 connections;
	long	 messages;
	long	 accepted;		/* including held */
	long	 held;
	long	 tempfailed;
	long	 rejected;
	long	 rate_limited;
	long	 errors;
	size_t	 nreasons;
	struct metrics_count reason[METRICS_LABELS_MAX];
	size_t	 nspf;
	struct metrics_count spf[METRICS_LABELS_MAX];
	size_t	 nbuckets;
	long	 bound_us[METRICS_BUCKETS_MAX];	/* the last one unused */
	long	 bucket[METRICS_BUCKETS_MAX];
	long	 latency_sum_us;
};

/* plain data; a double is NAN when unknown */
struct metrics {
	double	 pressure;
	size_t	 nsensors;
	struct metrics_sensor sensor[METRICS_SENSORS_MAX];
	double	 rate;		/* messages/s granted */
	long	 window;
	size_t	 nqueues;	/* the status's "queues": the MTA's names */
	struct metrics_count queue[METRICS_LABELS_MAX];
	long	 role[MSG_ROLE_COUNT];	/* its "roles"; -1 unknown */
	long	 parked;
	long	 released_total;
	long	 expired_total;
	long	 index_drift;	/* corrected by ebbd's cross-check scans */
	long	 at_risk[METRICS_RISK_COUNT];
	double	 scan_duration;	/* seconds, the last queue scan */
	double	 eta;		/* seconds until the parked mail is out */
	int	 paused;
	int	 stopped;
	long	 uptime;
	struct metrics_milter milter;
	size_t	 nhists;	/* the status's "messages", per queue */
	struct metrics_hist hist[METRICS_QUEUES_MAX];
	long	 left;		/* released, then gone: delivered or
				   bounced; -1 unknown */
	long	 deferred_again; /* released, then waiting again; -1 */
	/* the incident the timeline is in; since 0: none */
	long	 since;
	char	 since_local[40];	/* when, in the host's time zone */
	long	 incident_expired;	/* its messages past their deadline */
	char	 title[128];	/* [http] title or the host name; the
				   caller sets it, for the summary */
};

/* metrics_hist_add - one message of size bytes, age seconds old */
void		 metrics_hist_add(struct metrics_hist *h, double size,
		    double age);

/*
 * metrics_eta - how long until waiting messages are out at rate
 * messages/s: 1 and *eta_r (seconds; 0 when nothing waits), or 0 and
 * *why_r, in plain words, why there is no estimate (paused, stopped by
 * the load, no rate yet, too far ahead)
 */
int		 metrics_eta(long waiting, double rate, int paused,
		    int stopped, double *eta_r, const char **why_r);

/* metrics_risk_label - "expired", "lt1h", "lt6h", "lt24h", "later" */
const char	*metrics_risk_label(int bucket);

/*
 * metrics_from_status - read the status object (text of len bytes) into
 * *m. Members missing or of the wrong type are left unknown (NAN, 0,
 * -1 in m->milter); a name that is not fit for a label value is skipped,
 * and at most METRICS_LABELS_MAX are kept; a latency histogram with an
 * odd key or count is dropped whole. Returns -1 and *err_r (allocated)
 * only when text is not a JSON object.
 */
int		 metrics_from_status(const char *text, size_t len,
		    struct metrics *m, char **err_r);

/*
 * metrics_render - *m as Prometheus text exposition format (version
 * 0.0.4): a # HELP and # TYPE line per family, unknown values left out,
 * the ebb_milter_ families only when the status had a milter object.
 * Returns allocated text.
 */
char		*metrics_render(const struct metrics *m);

/*
 * metrics_render_down - the text when the parent did not answer: ebb_up
 * 0 and ebb_build_info. Returns allocated text.
 */
char		*metrics_render_down(void);

/*
 * metrics_summary - the public summary as a JSON object (allocated text):
 * state ("normal", "recovering", "busy", "paused"), words (one plain
 * paragraph), waiting, rate, eta (null: see eta_words), eta_words (an
 * estimate, or why there is none), pressure, released_total, time
 * (now), title, since and since_local (the incident's start; null when
 * none), expired (its messages past their deadline) and advice (what
 * senders should do, "" when nothing)
 */
char		*metrics_summary(const struct metrics *m, time_t now);

#endif
