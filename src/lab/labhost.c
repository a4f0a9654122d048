/*
 * labhost.c - ebb-labhost: the outage lab's modelled mail host, for real
 *
 * ebb-labhost stands for content scanning plus mailbox delivery on a small
 * host that overheats (issue 13's "real mode"): a private Postfix relays
 * to it over SMTP, and ebb reads its fake /proc and /sys. It runs the
 * lab's host model (host.c) on the monotonic clock:
 *
 *	- each message, at the end of DATA, is offered to lab_host_offer
 *	  with now = seconds since start; its "250" goes out only when the
 *	  model reports it DELIVERED, so the reply takes as long as the
 *	  processing and grows with queueing;
 *	- refused by the model: 451 when conn_max messages are in progress,
 *	  421 and close when down;
 *	- a critical trip (DOWN) closes every connection at once with no
 *	  reply, the messages in progress are lost, and connections made
 *	  while down are closed at once, until the model says UP;
 *	- every second, and at each reboot, the fake /proc and /sys under
 *	  --root are rewritten (lab_host_write_proc).
 *
 * The model is driven by one timer set to lab_host_next_event, a 1 s tick
 * and the offers; it is never polled. The event log (--log) has one JSON
 * object per line: start, offered, delivered, dropped, refused, down, up,
 * a sample every second, and exit; see ebb-labhost(1).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "ebb/log.h"
#include "ebb/util.h"
#include "lab/labhost.h"
#include "lab/sim.h"

#define EX_USAGE_	64
#define SIZE_MAX_DEFAULT (10L << 20)	/* message bytes, as Postfix */
#define CONNS_MAX_DEFAULT 1000
#define TIMER_SLACK	0.002		/* s: a timer this early is on time */

/* the model's parameters as options; off is into struct lab_host_params */
enum ptype { P_DOUBLE, P_LONG, P_INT };

static const struct param_opt {
	const char	*name;
	enum ptype	 type;
	size_t		 off;
	const char	*help;
} param_opts[] = {
#define PO(n, t, f, h) { n, t, offsetof(struct lab_host_params, f), h }
	PO("capacity", P_DOUBLE, capacity, "msg/s when busy"),
	PO("cpus", P_INT, cpus, "CPUs"),
	PO("conn-max", P_LONG, conn_max, "messages in progress at most"),
	PO("base-load", P_DOUBLE, base_load, "CPU share of other work"),
	PO("io-wait", P_DOUBLE, io_wait, "I/O share of a message's time"),
	PO("temp-ambient", P_DOUBLE, temp_ambient, "C when off"),
	PO("temp-idle", P_DOUBLE, temp_idle, "C at utilization 0"),
	PO("temp-full", P_DOUBLE, temp_full, "C at utilization 1"),
	PO("temp-start", P_DOUBLE, temp_start, "C at start, 0: idle"),
	PO("tau", P_DOUBLE, tau, "s, thermal time constant"),
	PO("trip-passive", P_DOUBLE, trip_passive, "C, passive trip"),
	PO("trip-critical", P_DOUBLE, trip_critical, "C, reboot here"),
	PO("reboot-time", P_DOUBLE, reboot_time, "s down per reboot"),
	PO("load-lag", P_DOUBLE, load_lag, "s, 1-minute load lag"),
	PO("mem-total-kb", P_LONG, mem_total_kb, "MemTotal"),
	PO("mem-base-kb", P_LONG, mem_base_kb, "memory other work uses"),
	PO("mem-per-msg-kb", P_LONG, mem_per_msg_kb, "memory per message"),
#undef PO
};

enum {
	OPT_LISTEN = 1000, OPT_ROOT, OPT_LOG, OPT_PIDFILE, OPT_SIZE_MAX,
	OPT_CONNS_MAX, OPT_PARAM	/* OPT_PARAM + index in param_opts */
};

static volatile sig_atomic_t	 quitting;

/* usage - the synopsis and every option with its default; exit 64 after
 * an error (why), 0 when asked (-h, on stdout) */
static void EBB_NORETURN
usage(const char *why)
{
	FILE			*out = why != NULL ? stderr : stdout;
	struct lab_host_params	 d;
	const struct param_opt	*po;
	size_t			 i;
	char			*v;

	if (why != NULL)
		fprintf(stderr, "ebb-labhost: %s\n", why);
	fprintf(out, "usage: ebb-labhost --listen ADDR:PORT --root DIR "
	    "[--log FILE] [--pidfile FILE]\n"
	    "       [--size-max BYTES] [--connections-max N] [-v] "
	    "[--PARAM VALUE]...\n"
	    "model parameters (defaults: the lab's default host):\n");
	if (why != NULL) {
		fprintf(out, "  (ebb-labhost -h lists them)\n");
		exit(EX_USAGE_);
	}
	lab_host_params_default(&d);
	for (i = 0; i < nitems(param_opts); i++) {
		po = &param_opts[i];
		v = po->type == P_DOUBLE ?
		    xasprintf("%g", *(double *)((char *)&d + po->off)) :
		    po->type == P_LONG ?
		    xasprintf("%ld", *(long *)((char *)&d + po->off)) :
		    xasprintf("%d", *(int *)((char *)&d + po->off));
		fprintf(out, "  --%-15s %-9s %s\n", po->name, v, po->help);
		free(v);
	}
	exit(0);
}

/* parse_param - set the field po names in p from arg, or usage() */
static void
parse_param(struct lab_host_params *p, const struct param_opt *po,
    const char *arg)
{
	char	*end, *why;
	double	 d;
	long	 l;

	errno = 0;
	if (po->type == P_DOUBLE) {
		d = strtod(arg, &end);
		if (end == arg || *end != '\0' || errno != 0 || !isfinite(d))
			goto bad;
		*(double *)((char *)p + po->off) = d;
		return;
	}
	l = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0)
		goto bad;
	if (po->type == P_LONG) {
		*(long *)((char *)p + po->off) = l;
		return;
	}
	if (l < -1000000 || l > 1000000)
		goto bad;
	*(int *)((char *)p + po->off) = (int)l;
	return;
bad:
	why = xasprintf("--%s: \"%s\" is not %s", po->name, arg,
	    po->type == P_DOUBLE ? "a number" : "an integer");
	usage(why);
}

/* parse_count - a positive integer option, or usage() */
static long
parse_count(const char *name, const char *arg, long max)
{
	char	*end;
	long	 l;

	errno = 0;
	l = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || l < 1 || l > max)
		usage(xasprintf("--%s: \"%s\" is not an integer in 1..%ld",
		    name, arg, max));
	return l;
}

/*
 * The event log.
 */

/* ms - x rounded to the millisecond, for the log */
static double
ms(double x)
{
	return round(x * 1000) / 1000;
}

/* log_event - a new log object: event, mono (host time), wall */
static json_t *
log_event(struct labhost *lab, const char *event, double t)
{
	return json_pack("{s:s, s:f, s:f}", "event", event, "mono", ms(t),
	    "wall", ms(lab->t0_wall + t));
}

/* log_ids - add the message's ids to o */
static void
log_ids(json_t *o, uint64_t id, const char *lab_id, const char *message_id)
{
	json_object_set_new(o, "id", json_integer((json_int_t)id));
	json_object_set_new(o, "lab_id",
	    lab_id != NULL ? json_string(lab_id) : json_null());
	json_object_set_new(o, "message_id",
	    message_id != NULL ? json_string(message_id) : json_null());
}

/* log_put - write o as one line and free it */
static void
log_put(struct labhost *lab, json_t *o)
{
	if (o == NULL)
		log_panic("json_pack failed");
	if (lab->log != NULL) {
		json_dumpf(o, lab->log, JSON_COMPACT | JSON_REAL_PRECISION(15));
		fputc('\n', lab->log);
	}
	json_decref(o);
}

/* log_state - the host's state now, as event (sample, exit) */
static void
log_state(struct labhost *lab, const char *event)
{
	struct lab_host_state	 st;

	lab_host_state(lab->host, &st);
	log_put(lab, json_pack("{s:s, s:f, s:f, s:b, s:f, s:f, s:f, s:I, "
	    "s:f, s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "event", event, "mono", ms(st.time), "wall",
	    ms(lab->t0_wall + st.time), "up", st.up, "temperature",
	    ms(st.temperature), "temp_peak", ms(st.temp_peak),
	    "above_passive", ms(st.above_passive),
	    "in_progress", (json_int_t)st.in_progress,
	    "utilization", ms(st.utilization), "utilization_avg",
	    ms(st.utilization_avg), "load1", ms(st.load1),
	    "psi_cpu", ms(st.psi_cpu_avg10), "psi_io", ms(st.psi_io_avg10),
	    "reboots", (json_int_t)st.reboots,
	    "accepted", (json_int_t)st.accepted,
	    "refused", (json_int_t)st.refused,
	    "delivered", (json_int_t)st.delivered,
	    "dropped", (json_int_t)st.dropped,
	    "connections", (json_int_t)lab->nconns,
	    "pid", (json_int_t)getpid()));
}

/* log_start - the parameters and what they imply */
static void
log_start(struct labhost *lab)
{
	const struct lab_host_params	*p = &lab->params;
	double				 limited = 0;
	char				*err = NULL;

	/* the bound ebb-lab scores by: the passive trip or ebb's default
	   limits (temperature_margin below the trip, load_per_cpu),
	   whichever is lower */
	if (lab_sim_safe_rate(p, NULL, &limited, &err) == -1) {
		limited = 0;
		free(err);
	}
	log_put(lab, json_pack("{s:s, s:f, s:f, s:I, s:{s:f, s:i, s:I, s:f, "
	    "s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:f, s:f, s:f}",
	    "event", "start", "mono", 0.0, "wall", ms(lab->t0_wall),
	    "pid", (json_int_t)getpid(), "params",
	    "capacity", p->capacity, "cpus", p->cpus,
	    "conn_max", (json_int_t)p->conn_max, "base_load", p->base_load,
	    "io_wait", p->io_wait, "temp_ambient", p->temp_ambient,
	    "temp_idle", p->temp_idle, "temp_full", p->temp_full,
	    "temp_start", p->temp_start, "tau", p->tau,
	    "trip_passive", p->trip_passive, "trip_critical",
	    p->trip_critical, "reboot_time", p->reboot_time,
	    "load_lag", p->load_lag,
	    "safe_rate", ms(lab_host_safe_rate(p, 0)),
	    "safe_utilization", ms(lab_host_safe_utilization(p, 0)),
	    "safe_rate_limits", ms(limited)));
}

void
labhost_log_refused(struct labhost *lab, const char *reason)
{
	json_t	*o = log_event(lab, "refused", lab->last);

	json_object_set_new(o, "reason", json_string(reason));
	json_object_set_new(o, "stage", json_string("connect"));
	log_put(lab, o);
}

/*
 * The host on the clock.
 */

/* host_now - seconds since start; never less than a time already used */
static double
host_now(struct labhost *lab)
{
	double	 t = ebb_now_mono() - lab->t0_mono;

	if (t < lab->last)
		t = lab->last;
	lab->last = t;
	return t;
}

/* inflight_take - remove and return the in-flight record of id, or NULL */
static struct inflight *
inflight_take(struct labhost *lab, uint64_t id)
{
	struct inflight	*f;

	/* messages finish in the order offered: the head, nearly always */
	TAILQ_FOREACH(f, &lab->inflight, entry)
		if (f->id == id) {
			TAILQ_REMOVE(&lab->inflight, f, entry);
			return f;
		}
	return NULL;
}

static void
inflight_free(struct inflight *f)
{
	free(f->lab_id);
	free(f->message_id);
	free(f);
}

/* on_event - the model's events, during lab_host_advance: no calls back */
static void
on_event(void *arg, const struct lab_host_event *ev)
{
	struct labhost	*lab = arg;
	struct inflight	*f;
	json_t		*o;

	switch (ev->kind) {
	case LAB_HOST_DELIVERED:
	case LAB_HOST_DROPPED:
		f = inflight_take(lab, ev->msgid);
		if (f == NULL)
			log_panic("host event for unknown message %llu",
			    (unsigned long long)ev->msgid);
		o = log_event(lab, ev->kind == LAB_HOST_DELIVERED ?
		    "delivered" : "dropped", ev->time);
		log_ids(o, f->id, f->lab_id, f->message_id);
		json_object_set_new(o, "latency",
		    json_real(ms(ev->time - ev->offered_at)));
		if (ev->kind == LAB_HOST_DELIVERED)
			json_object_set_new(o, "reply",
			    json_boolean(f->conn != NULL));
		log_put(lab, o);
		if (ev->kind == LAB_HOST_DELIVERED && f->conn != NULL)
			smtp_delivered(lab, f->conn, f->lab_id);
		inflight_free(f);
		break;
	case LAB_HOST_DOWN:
		o = log_event(lab, "down", ev->time);
		json_object_set_new(o, "temperature",
		    json_real(lab->params.trip_critical));
		json_object_set_new(o, "until",
		    json_real(ms(ev->time + lab->params.reboot_time)));
		json_object_set_new(o, "connections",
		    json_integer(lab->nconns));
		log_put(lab, o);
		log_warn("critical trip at %.1f s: rebooting for %g s, "
		    "%ld connections dropped", ev->time,
		    lab->params.reboot_time, lab->nconns);
		smtp_drop_all(lab);
		lab->proc_dirty = 1;
		break;
	case LAB_HOST_UP:
		log_put(lab, log_event(lab, "up", ev->time));
		log_info("up again at %.1f s", ev->time);
		lab->proc_dirty = 1;
		break;
	}
}

/* write_proc - the fake /proc and /sys; warn once while it fails */
static void
write_proc(struct labhost *lab)
{
	char	*err = NULL;

	lab->proc_dirty = 0;
	if (lab_host_write_proc(lab->host, lab->root, &err) == -1) {
		if (!lab->proc_failing)
			log_warn("%s", err);
		lab->proc_failing = 1;
		free(err);
		return;
	}
	lab->proc_failing = 0;
}

/* schedule - the timer at the host's next event */
static void
schedule(struct labhost *lab)
{
	double		 next = lab_host_next_event(lab->host), dt;
	struct timeval	 tv;

	if (isinf(next)) {
		evtimer_del(lab->ev_host);
		return;
	}
	dt = next - (ebb_now_mono() - lab->t0_mono);
	if (dt < 0)
		dt = 0;
	tv.tv_sec = (time_t)dt;
	tv.tv_usec = (suseconds_t)ceil((dt - (double)tv.tv_sec) * 1e6);
	if (tv.tv_usec >= 1000000) {
		tv.tv_sec++;
		tv.tv_usec -= 1000000;
	}
	evtimer_add(lab->ev_host, &tv);
}

/* advance - the host to t; then what its events left to do */
static void
advance(struct labhost *lab, double t)
{
	lab_host_advance(lab->host, t, on_event, lab);
	if (lab->proc_dirty)
		write_proc(lab);
	schedule(lab);
}

/* on_host_timer - the host's next event is due */
static void
on_host_timer(evutil_socket_t fd, short what, void *arg)
{
	struct labhost	*lab = arg;
	double		 t = host_now(lab);
	double		 next = lab_host_next_event(lab->host);

	if (next > t && next - t < TIMER_SLACK)
		t = lab->last = next;	/* a timer a hair early */
	advance(lab, t);
}

/* on_tick - every second: the fake /proc and a sample */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct labhost	*lab = arg;

	advance(lab, host_now(lab));
	write_proc(lab);
	log_state(lab, "sample");
}

static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	smtp_reap(arg);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct labhost	*lab = arg;

	quitting = 1;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(lab->base);
}

int
labhost_host_up(struct labhost *lab)
{
	struct lab_host_state	 st;

	advance(lab, host_now(lab));
	lab_host_state(lab->host, &st);
	return st.up;
}

enum offer_result
labhost_offer(struct labhost *lab, struct conn *conn, const char *lab_id,
    const char *message_id)
{
	struct lab_host_state	 st;
	struct inflight		*f;
	double			 now = host_now(lab);
	uint64_t		 id;
	json_t			*o;

	lab_host_advance(lab->host, now, on_event, lab);
	if (lab->proc_dirty)
		write_proc(lab);
	lab_host_state(lab->host, &st);
	if (!st.up) {		/* rebooted just now (conn dropped), or down */
		schedule(lab);
		return OFFER_DOWN;
	}
	id = ++lab->next_id;
	o = log_event(lab, "offered", now);
	log_ids(o, id, lab_id, message_id);
	log_put(lab, o);
	if (!lab_host_offer(lab->host, now, id)) {
		o = log_event(lab, "refused", now);
		log_ids(o, id, lab_id, message_id);
		json_object_set_new(o, "reason", json_string("busy"));
		json_object_set_new(o, "stage", json_string("data"));
		log_put(lab, o);
		schedule(lab);
		return OFFER_BUSY;
	}
	f = xcalloc(1, sizeof(*f));
	f->id = id;
	f->conn = conn;
	f->lab_id = lab_id != NULL ? xstrdup(lab_id) : NULL;
	f->message_id = message_id != NULL ? xstrdup(message_id) : NULL;
	TAILQ_INSERT_TAIL(&lab->inflight, f, entry);
	schedule(lab);
	return OFFER_TAKEN;
}

void
labhost_conn_gone(struct labhost *lab, struct conn *conn)
{
	struct inflight	*f;

	TAILQ_FOREACH(f, &lab->inflight, entry)
		if (f->conn == conn)
			f->conn = NULL;
}

/* write_pidfile - path holds our pid, or fatal */
static void
write_pidfile(const char *path)
{
	FILE	*fp;

	if ((fp = fopen(path, "w")) == NULL)
		log_fatal("%s: %s", path, strerror(errno));
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) == EOF)
		log_fatal("%s: %s", path, strerror(errno));
}

int
main(int argc, char **argv)
{
	static struct labhost	 lab;
	struct option		 longopts[nitems(param_opts) + 9];
	struct event_config	*cfg;
	struct event		*ev_term, *ev_int;
	const struct timeval	 second = { 1, 0 };
	const char		*listen_addr = NULL, *log_path = NULL;
	const char		*pidfile = NULL;
	char			*err = NULL;
	size_t			 i, n = 0;
	int			 ch, verbose = 0;

	for (i = 0; i < nitems(param_opts); i++)
		longopts[n++] = (struct option){ param_opts[i].name,
		    required_argument, NULL, OPT_PARAM + (int)i };
	longopts[n++] = (struct option){ "listen", required_argument, NULL,
	    OPT_LISTEN };
	longopts[n++] = (struct option){ "root", required_argument, NULL,
	    OPT_ROOT };
	longopts[n++] = (struct option){ "log", required_argument, NULL,
	    OPT_LOG };
	longopts[n++] = (struct option){ "pidfile", required_argument, NULL,
	    OPT_PIDFILE };
	longopts[n++] = (struct option){ "size-max", required_argument, NULL,
	    OPT_SIZE_MAX };
	longopts[n++] = (struct option){ "connections-max",
	    required_argument, NULL, OPT_CONNS_MAX };
	longopts[n++] = (struct option){ "verbose", no_argument, NULL, 'v' };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	log_init("ebb-labhost", 1, 0);
	lab_host_params_default(&lab.params);
	lab.size_max = SIZE_MAX_DEFAULT;
	lab.conns_max = CONNS_MAX_DEFAULT;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_LISTEN:
			listen_addr = optarg;
			break;
		case OPT_ROOT:
			lab.root = optarg;
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case OPT_SIZE_MAX:
			lab.size_max = (size_t)parse_count("size-max", optarg,
			    1L << 30);
			break;
		case OPT_CONNS_MAX:
			lab.conns_max = parse_count("connections-max", optarg,
			    100000);
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(NULL);
		case '?':
			usage(xasprintf("unknown option or missing value: %s",
			    argv[optind - 1]));
		default:
			if (ch >= OPT_PARAM &&
			    ch < OPT_PARAM + (int)nitems(param_opts)) {
				parse_param(&lab.params,
				    &param_opts[ch - OPT_PARAM], optarg);
				break;
			}
			usage("unknown option");
		}
	}
	if (optind != argc)
		usage(xasprintf("unexpected argument: %s", argv[optind]));
	if (listen_addr == NULL)
		usage("--listen ADDR:PORT is required");
	if (lab.root == NULL || *lab.root == '\0')
		usage("--root DIR is required");
	if (lab_host_params_check(&lab.params, &err) == -1)
		usage(err);
	log_init("ebb-labhost", 1, verbose);

	if (mkdir(lab.root, 0755) == -1 && errno != EEXIST)
		log_fatal("mkdir %s: %s", lab.root, strerror(errno));
	if (log_path != NULL) {
		if (strcmp(log_path, "-") == 0)
			lab.log = stdout;
		else if ((lab.log = fopen(log_path, "a")) == NULL)
			log_fatal("%s: %s", log_path, strerror(errno));
		setvbuf(lab.log, NULL, _IOLBF, 0);
	}
	signal(SIGPIPE, SIG_IGN);
	TAILQ_INIT(&lab.conns);
	TAILQ_INIT(&lab.dead);
	TAILQ_INIT(&lab.inflight);

	/* timers on the precise monotonic clock, not the coarse one */
	if ((cfg = event_config_new()) == NULL)
		log_fatal("event_config_new failed");
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	if ((lab.base = event_base_new_with_config(cfg)) == NULL)
		log_fatal("event_base_new failed");
	event_config_free(cfg);

	lab.t0_mono = ebb_now_mono();
	lab.t0_wall = ebb_now_real();
	if ((lab.host = lab_host_new(&lab.params, 0, &err)) == NULL)
		log_fatal("%s", err);
	lab.ev_host = evtimer_new(lab.base, on_host_timer, &lab);
	lab.ev_tick = event_new(lab.base, -1, EV_PERSIST, on_tick, &lab);
	lab.ev_reap = event_new(lab.base, -1, 0, on_reap, &lab);
	ev_term = evsignal_new(lab.base, SIGTERM, on_signal, &lab);
	ev_int = evsignal_new(lab.base, SIGINT, on_signal, &lab);
	if (lab.ev_host == NULL || lab.ev_tick == NULL || lab.ev_reap == NULL ||
	    ev_term == NULL || ev_int == NULL)
		log_fatal("event_new failed");
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);

	write_proc(&lab);
	if (lab.proc_failing)
		log_fatal("cannot write the fake /proc under %s", lab.root);
	if (smtp_listen(&lab, listen_addr, &err) == -1)
		log_fatal("%s", err);
	log_start(&lab);
	log_state(&lab, "sample");
	evtimer_add(lab.ev_tick, &second);
	schedule(&lab);
	if (pidfile != NULL)
		write_pidfile(pidfile);
	log_info("listening on %s, capacity %g msg/s, /proc under %s",
	    listen_addr, lab.params.capacity, lab.root);

	event_base_dispatch(lab.base);

	lab_host_advance(lab.host, host_now(&lab), on_event, &lab);
	smtp_shutdown(&lab);
	log_state(&lab, "exit");
	if (pidfile != NULL)
		unlink(pidfile);
	if (lab.log != NULL && lab.log != stdout)
		fclose(lab.log);
	while (!TAILQ_EMPTY(&lab.inflight)) {
		struct inflight	*f = TAILQ_FIRST(&lab.inflight);

		TAILQ_REMOVE(&lab.inflight, f, entry);
		inflight_free(f);
	}
	event_free(ev_term);
	event_free(ev_int);
	event_free(lab.ev_host);
	event_free(lab.ev_tick);
	event_free(lab.ev_reap);
	lab_host_free(&lab.host);
	event_base_free(lab.base);
	return quitting ? 0 : 1;
}
