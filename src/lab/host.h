/*
 * host.h - the outage lab's modelled mail host
 *
 * A mail host reduced to what matters after an outage: it processes
 * messages at a capacity and answers an SMTP transaction only once the
 * message is processed, so its latency grows with queueing; it heats up
 * with utilization, with inertia, and reboots at its critical trip point,
 * dropping the messages in progress; and it shows its state the way Linux
 * does (1-minute load average with the kernel's lag, the runnable count,
 * PSI, a thermal zone with trip points). The model and its equations are in
 * host.c.
 *
 * Pure and deterministic: no clock, no randomness, no I/O except
 * lab_host_write_proc. Time is passed in, in seconds on any clock that does
 * not jump (a simulation's 0.., or CLOCK_MONOTONIC in real mode), and never
 * goes back. A discrete-event driver asks lab_host_next_event when the host
 * next does something on its own and jumps there; nothing is lost between
 * events, so a jump and fine ticks give the same results.
 *
 * Protocol for a driver:
 *
 *	h = lab_host_new(&params, t0, &err);
 *	loop:
 *		lab_host_advance(h, now, on_event, arg);   deliveries, reboots
 *		lab_host_offer(h, now, msgid);             0: refused, retry
 *		lab_host_state(h, &st);  lab_host_write_proc(h, root, &err);
 *		now = MIN(lab_host_next_event(h), the driver's own next event);
 */
#ifndef EBB_LAB_HOST_H
#define EBB_LAB_HOST_H

#include <stdint.h>

struct lab_host;

#define LAB_HOST_CAPACITY_MIN	2.0	/* msg/s; the ranges are issue 13's */
#define LAB_HOST_CAPACITY_MAX	200.0
#define LAB_HOST_TAU_MIN	10.0	/* s, thermal time constant */
#define LAB_HOST_TAU_MAX	120.0
#define LAB_HOST_LOAD_PERIOD	5.0	/* s between load samples (kernel) */
#define LAB_HOST_FRONT_MAX	1000	/* SMTP sessions at the front door */

/* what the host is; plain data, every field settable */
struct lab_host_params {
	double	 capacity;	/* msg/s when busy, with the base load on */
	int	 cpus;		/* CPUs; a lone message uses one */
	long	 conn_max;	/* messages in progress at most; then refused */
	double	 base_load;	/* CPU share other work uses, 0..0.99 */
	double	 io_wait;	/* share of a message's time in I/O, 0..0.99 */
	double	 temp_ambient;	/* C; where a host that is off cools to */
	double	 temp_idle;	/* C; equilibrium at utilization 0 */
	double	 temp_full;	/* C; equilibrium at utilization 1 */
	double	 temp_start;	/* C at start; 0: equilibrium at base load */
	double	 tau;		/* s, first-order thermal time constant */
	double	 trip_passive;	/* C; the safe bound is set by it */
	double	 trip_critical;	/* C; reached, the host reboots */
	double	 reboot_time;	/* s down after a critical trip */
	double	 load_lag;	/* s; the 1-minute load average's lag (60) */
	long	 mem_total_kb;	/* proc/meminfo MemTotal */
	long	 mem_base_kb;	/* used by other work */
	long	 mem_per_msg_kb; /* used per message in progress */
	double	 front_work;	/* work of one SMTP session at the front
				   door (lab_host_offer_front), in
				   messages' work: 0..1 */
};

/* lab_host_params_default - the lab's default host into *p (see host.c) */
void	 lab_host_params_default(struct lab_host_params *p);

/*
 * lab_host_params_check - 0 when every field of p is in range; else -1 and
 * an allocated message naming the field, its value and the range in
 * *err_r (caller frees), e.g. "capacity 250 msg/s is outside 2..200".
 */
int	 lab_host_params_check(const struct lab_host_params *p, char **err_r);

/*
 * lab_host_temp_equilibrium - the temperature p settles at when held at
 * utilization u (0..1): temp_idle + (temp_full - temp_idle) * u
 */
double	 lab_host_temp_equilibrium(const struct lab_host_params *p,
	    double u);

/*
 * lab_host_safe_utilization - u_safe: the highest steady CPU utilization
 * (base load included, 0..1) at which p's equilibrium temperature stays at
 * or below the passive trip and, when load_per_cpu > 0, the 1-minute load
 * per CPU of a paced stream stays at or below load_per_cpu. 0 when the base
 * load alone breaks a limit. p must pass lab_host_params_check.
 */
double	 lab_host_safe_utilization(const struct lab_host_params *p,
	    double load_per_cpu);

/*
 * lab_host_safe_rate - msg/s of mail that holds the host at
 * lab_host_safe_utilization: capacity * (u_safe - base) / (1 - base). The
 * safe-capacity bound on a drain of N messages is N / this rate (which is
 * N / (capacity * u_safe) when base_load is 0).
 */
double	 lab_host_safe_rate(const struct lab_host_params *p,
	    double load_per_cpu);

/*
 * lab_host_new - a host at time now, up, idle, at temp_start; params are
 * copied. NULL and *err_r (allocated) when they fail lab_host_params_check.
 */
struct lab_host	*lab_host_new(const struct lab_host_params *params,
		    double now, char **err_r);

/* lab_host_free - free *hp and set it to NULL; NULL is fine */
void	 lab_host_free(struct lab_host **hp);

/*
 * what happened inside the host; passed to a lab_host_event_fn. A trip
 * gives DOWN, then a DROPPED for each message in progress, at one time.
 */
enum lab_host_event_kind {
	LAB_HOST_DELIVERED,	/* msgid processed; its SMTP reply is 250 */
	LAB_HOST_DROPPED,	/* msgid lost in a reboot; the sender retries */
	LAB_HOST_DOWN,		/* critical trip: rebooting (msgid 0) */
	LAB_HOST_UP		/* back after reboot_time (msgid 0) */
};

struct lab_host_event {
	enum lab_host_event_kind kind;
	int		 front;		/* DELIVERED, DROPPED: a session of
					   lab_host_offer_front (DELIVERED:
					   answered) */
	double		 time;		/* when it happened */
	uint64_t	 msgid;		/* DELIVERED, DROPPED: the message */
	double		 offered_at;	/* DELIVERED, DROPPED: its offer */
};

/* called for each event in time order; must not call back into the host */
typedef void	 lab_host_event_fn(void *arg, const struct lab_host_event *);

/*
 * lab_host_advance - run the host up to now, calling fn(arg, event) for
 * each delivery, drop, reboot and return at or before now, in time order
 * (fn may be NULL). now before the host's time is a bug.
 */
void	 lab_host_advance(struct lab_host *h, double now,
	    lab_host_event_fn *fn, void *arg);

/*
 * lab_host_offer - one SMTP transaction for msgid starts at now. Returns 1
 * when the host takes it (its reply comes later as a DELIVERED or DROPPED
 * event), 0 when it refuses: down (the connection fails) or conn_max
 * messages in progress (421). Call lab_host_advance(h, now, ...) first: now
 * may not be past lab_host_next_event (a bug).
 */
int	 lab_host_offer(struct lab_host *h, double now, uint64_t msgid);

/*
 * lab_host_offer_front - one SMTP session at the host's own front door
 * (its MTA's smtpd, cleanup and milter: accepting mail, not processing
 * it) starts at now. It costs front_work of a message's work and shares
 * the CPUs with the deliveries (processor sharing: all sessions have the
 * same work, so they end in the order they came, and end before a
 * delivery that started with them). Returns 1 when taken: its end comes
 * later as a DELIVERED event with front set (the session is answered) or
 * DROPPED (cut by a reboot); 0 when the host is down or
 * LAB_HOST_FRONT_MAX sessions are open. Sessions are not messages: they
 * do not count in conn_max, in_progress, memory or I/O; they count in the
 * CPU's utilization, heat, runnable count and load. Call as
 * lab_host_offer.
 */
int	 lab_host_offer_front(struct lab_host *h, double now, uint64_t id);

/*
 * lab_host_next_event - the time of the host's next event of its own (a
 * delivery, a critical trip, the end of a reboot), HUGE_VAL when none is
 * coming. Load-average samples are not events: lab_host_advance takes
 * them in passing.
 */
double	 lab_host_next_event(const struct lab_host *h);

/* the host at its current time; plain data */
struct lab_host_state {
	double	 time;		/* the host's time (of the last advance) */
	int	 up;		/* 0 while rebooting */
	double	 down_until;	/* when down: the time it comes back */
	long	 in_progress;	/* messages being processed */
	long	 front_in_progress; /* front-door sessions open */
	double	 utilization;	/* CPU busy share now, 0..1 */
	double	 utilization_avg; /* mean since lab_host_new */
	double	 temperature;	/* C */
	double	 temp_target;	/* C it heads for at this utilization */
	double	 temp_peak;	/* C, highest so far */
	double	 above_passive;	/* s spent above trip_passive */
	double	 runnable;	/* tasks runnable now (base load averaged) */
	double	 load1, load5, load15;	/* /proc/loadavg */
	double	 psi_cpu_avg10;	/* "some", fractions 0..1 */
	double	 psi_io_avg10;
	double	 mem_available;	/* MemAvailable / MemTotal */
	long	 reboots;
	long	 accepted;	/* offers taken */
	long	 refused;	/* offers refused (down or full) */
	long	 delivered;
	long	 dropped;	/* lost in reboots */
	long	 front_taken;	/* front-door sessions started */
	long	 front_refused;	/* ... refused (down, or full) */
	long	 front_answered; /* ... answered */
	long	 front_cut;	/* ... cut by a reboot */
};

/* lab_host_state - fill *st with h at its current time */
void	 lab_host_state(const struct lab_host *h, struct lab_host_state *st);

/*
 * lab_host_write_proc - write h's current state as a fake /proc and /sys
 * under root (which must exist), in the formats ebb's sensors read with
 * proc_root = sys_root = root: proc/loadavg, proc/stat, proc/meminfo,
 * proc/pressure/{cpu,io,memory} and sys/class/thermal/thermal_zone0/{temp,
 * type,trip_point_0_*,trip_point_1_*}. As on a real kernel, the R of
 * proc/loadavg's "R/T" counts the reading task: round(runnable) + 1. While
 * the host is down the files show a freshly booted kernel (loads and PSI 0)
 * and the cooling temperature. Each file is replaced atomically
 * (a temporary file, then rename), so a reader sees the old or the new
 * file, never a part. Returns 0, or -1 and *err_r (allocated, naming the
 * path) when a file cannot be written.
 */
int	 lab_host_write_proc(const struct lab_host *h, const char *root,
	    char **err_r);

#endif
