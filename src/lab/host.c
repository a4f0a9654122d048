/*
 * host.c - the outage lab's modelled mail host
 *
 * The host stands for what sits behind a relay after an outage: content
 * scanning plus mailbox delivery on a small box that overheats. It is a
 * deterministic continuous-time model driven by events; between two events
 * nothing changes but time, and every quantity below has a closed form over
 * such an interval, so lab_host_advance jumps from event to event exactly.
 *
 * Service: processor sharing on `cpus` CPUs, with unit work per message.
 * Each message in progress is a process; n of them share the CPUs that the
 * base load leaves (capacity is the mail throughput measured with the base
 * load running: the base load adds heat and runnable tasks, and does not
 * slow the mail down), so each progresses at
 *
 *	r(n) = capacity / max(n, cpus)		(messages of work per second)
 *
 * and the host delivers capacity * min(n, cpus) / cpus messages/s: a lone
 * message takes cpus / capacity seconds, and at n >= cpus the throughput is
 * capacity, never more. The SMTP reply (DELIVERED) comes when a message's
 * work is done, so its latency grows with the messages in progress: with n
 * of them all along it is max(n, cpus) / capacity. Equal work means
 * messages finish in the order they came (two offered at once finish
 * together). At most conn_max are in progress; further offers are refused. Why
 * processor sharing rather than FIFO: a mail host forks a process per
 * connection (smtpd, scanner, local delivery) and the kernel shares the
 * CPUs among them, which is also what makes the load average rise.
 *
 * The front door (lab_host_offer_front, for the lab's remote senders): an
 * SMTP session that the host's own MTA answers (smtpd, cleanup, the
 * milter) is a job too, of front_work (default 0.05) of a message's work,
 * sharing the CPUs with the deliveries. The sessions are a second FIFO
 * ring (equal work again), and the next job done is the one of the two
 * heads that the work clock reaches first. Below, n counts both kinds,
 * except for I/O and memory, which only the messages' processing uses.
 *
 * Utilization (busy share of the CPUs) with base load b:
 *
 *	u(n) = b + (1 - b) * min(n, cpus) / cpus	while up, 0 while down
 *
 * Temperature: first order, toward an equilibrium set by utilization,
 *
 *	dT/dt = (Teq - T) / tau,
 *	Teq = temp_idle + (temp_full - temp_idle) * u	while up,
 *	Teq = temp_ambient				while down (off)
 *	T(t + dt) = Teq + (T(t) - Teq) * exp(-dt / tau)
 *
 * so after a step T covers 1 - 1/e of the way in tau seconds. T reaching
 * trip_critical is an event, found exactly: t = tau * ln((Teq - T) / (Teq -
 * trip_critical)). There the host goes down: every message in progress is
 * DROPPED (never delivered; the sender must retry), the kernel's averages
 * restart from 0, and it stays off for reboot_time seconds, cooling toward
 * ambient, then comes UP at whatever temperature it cooled to. Time above
 * trip_passive is integrated exactly (T is monotone between events). There
 * is no throttling at the passive trip: the lab's host is one whose cooling
 * cannot keep up, as in the incident of issue 13.
 *
 * Load average: as the kernel (kernel/sched/loadavg.c), every
 * LAB_HOST_LOAD_PERIOD = 5 s the runnable count R is sampled and
 *
 *	load = load * e + R * (1 - e),	e = exp(-5 / lag)
 *
 * with lag = load_lag (60 s) for the 1-minute average and the kernel's 300 s
 * and 900 s for the others. R = b * cpus + n: the base load's tasks (an
 * average, so possibly fractional) and one per message in progress (running
 * or in I/O wait, both counted by the kernel). After a step from 0 to R the
 * average reaches R * (1 - 1/e) after lag seconds.
 *
 * PSI "some" (the share of time some task waited): for the CPU, R tasks on
 * cpus CPUs leave (R - cpus) / cpus of them with a waiter, clamped to 0..1;
 * for I/O, each message waits on I/O for a share io_wait of its time,
 * independently, so some = 1 - (1 - io_wait)^n and full = io_wait^n. The
 * averages are continuous exponential averages over 10, 60 and 300 s (the
 * kernel updates them every 2 s; close enough for a 1 s sampler), totals
 * in microseconds. Memory: mem_base_kb + n * mem_per_msg_kb in use.
 *
 * Safe capacity: over a long run T averages Teq(mean u), so the highest
 * steady utilization that keeps T at or below trip_passive is u_T =
 * (trip_passive - temp_idle) / (temp_full - temp_idle). A paced stream of
 * rate x below capacity never makes a message wait for a CPU (n <= cpus), so
 * its load per CPU is b + x / capacity; a load limit L allows x / capacity
 * <= L - b. The safe mail share s is the smaller one; then
 * u_safe = b + (1 - b) * s, and the safe rate is capacity * s.
 *
 * Parameters. From issue 13: the ranges of capacity (2..200 msg/s) and tau
 * (10..120 s), the 60 s reboot, a tau of "tens of seconds", and which
 * parameters must be settable. From the kernel: the 5 s load sample, the
 * e = exp(-5/60) decay, and the 10/60/300 s PSI windows. From Postfix: 100
 * connections (default_process_limit). Chosen for the lab, to reproduce
 * what the issue measured (the host overheats under an unpaced drain, and
 * has room to drain safely): a 2-CPU box doing 20 msg/s with a 10% base
 * load, tau 30 s, idle at 40 C and heading for 100 C at full load, trips at
 * 80 C (passive) and 90 C (critical), ambient 25 C. At full load it goes
 * from its idle 46 C to critical in 30 ln(54/10) = 51 s; u_safe = 2/3,
 * a safe rate of 12.6 msg/s. io_wait 5% and 20 MiB per message (of 4 GiB,
 * 1 GiB used by other work) keep PSI io and memory below ebb's default
 * limits at the safe rate.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ebb/log.h"
#include "ebb/util.h"
#include "host.h"

#define LOAD_LAG_5	300.0		/* s, the kernel's 5- and 15-minute */
#define LOAD_LAG_15	900.0
#define USER_HZ		100		/* /proc/stat jiffies per second */
#define TASKS_IDLE	150		/* sleeping tasks in proc/loadavg */
#define PID_MAX		4194304		/* proc/loadavg's last pid wraps */

static const double psi_window[3] = { 10.0, 60.0, 300.0 };

/* one message in progress */
struct job {
	uint64_t	 id;
	double		 offered_at;
	double		 finish;	/* work clock at which it is done */
};

/* one PSI line's state: averages over psi_window, total in us */
struct psi {
	double		 avg[3];
	double		 total;
};

struct lab_host {
	struct lab_host_params p;
	double		 start;		/* lab_host_new's time */
	double		 now;		/* time the state is at */
	int		 up;
	double		 down_until;
	double		 boot;		/* time of the last (re)start */

	struct job	*jobs;		/* ring of conn_max, oldest at head */
	long		 head;
	long		 n;
	struct job	*fjobs;		/* front door: ring of FRONT_MAX */
	long		 fhead;
	long		 nf;
	double		 work_base;	/* the work clock at t_base */
	double		 t_base;	/* last change of n */
	double		 t_done;	/* next delivery, HUGE_VAL: none */
	double		 t_trip;	/* critical trip, HUGE_VAL: none */

	double		 temp;
	double		 temp_peak;
	double		 above_passive;

	double		 busy;		/* integral of u dt since start */
	double		 busy_boot;	/* since the last boot, for proc/stat */
	double		 load[3];
	double		 next_sample;
	struct psi	 cpu_some, io_some, io_full;

	long		 reboots, accepted, refused, delivered, dropped;
	long		 front_taken, front_refused, front_answered, front_cut;
};

void
lab_host_params_default(struct lab_host_params *p)
{
	memset(p, 0, sizeof(*p));
	p->capacity = 20;
	p->cpus = 2;
	p->conn_max = 100;
	p->base_load = 0.1;
	p->io_wait = 0.05;
	p->temp_ambient = 25;
	p->temp_idle = 40;
	p->temp_full = 100;
	p->temp_start = 0;
	p->tau = 30;
	p->trip_passive = 80;
	p->trip_critical = 90;
	p->reboot_time = 60;
	p->load_lag = 60;
	p->mem_total_kb = 4L << 20;	/* 4 GiB */
	p->mem_base_kb = 1L << 20;
	p->mem_per_msg_kb = 20L << 10;	/* a scanner's share, 20 MiB */
	p->front_work = 0.05;
}

/* out_of - *err_r for a value outside lo..hi; -1 */
static int
out_of(char **err_r, const char *name, double v, const char *unit,
    double lo, double hi)
{
	*err_r = xasprintf("%s %.15g%s%s is outside %.15g..%.15g", name, v,
	    *unit != '\0' ? " " : "", unit, lo, hi);
	return -1;
}

/* within - lo <= v <= hi, false for NaN */
static int
within(double v, double lo, double hi)
{
	return v >= lo && v <= hi;
}

int
lab_host_params_check(const struct lab_host_params *p, char **err_r)
{
	if (!within(p->capacity, LAB_HOST_CAPACITY_MIN, LAB_HOST_CAPACITY_MAX))
		return out_of(err_r, "capacity", p->capacity, "msg/s",
		    LAB_HOST_CAPACITY_MIN, LAB_HOST_CAPACITY_MAX);
	if (p->cpus < 1 || p->cpus > 1024)
		return out_of(err_r, "cpus", p->cpus, "", 1, 1024);
	if (p->conn_max < 1 || p->conn_max > 1000000)
		return out_of(err_r, "conn_max", p->conn_max, "", 1, 1000000);
	if (!within(p->base_load, 0, 0.99))
		return out_of(err_r, "base_load", p->base_load, "", 0, 0.99);
	if (!within(p->io_wait, 0, 0.99))
		return out_of(err_r, "io_wait", p->io_wait, "", 0, 0.99);
	if (!within(p->tau, LAB_HOST_TAU_MIN, LAB_HOST_TAU_MAX))
		return out_of(err_r, "tau", p->tau, "s", LAB_HOST_TAU_MIN,
		    LAB_HOST_TAU_MAX);
	if (!within(p->temp_ambient, -50, 100))
		return out_of(err_r, "temp_ambient", p->temp_ambient, "C",
		    -50, 100);
	if (!within(p->temp_idle, p->temp_ambient, 150))
		return out_of(err_r, "temp_idle", p->temp_idle, "C",
		    p->temp_ambient, 150);
	if (!within(p->temp_full, p->temp_idle + 1, 300))
		return out_of(err_r, "temp_full", p->temp_full, "C",
		    p->temp_idle + 1, 300);
	if (!within(p->trip_passive, p->temp_idle + 1, 250))
		return out_of(err_r, "trip_passive", p->trip_passive, "C",
		    p->temp_idle + 1, 250);
	if (!within(p->trip_critical, p->trip_passive + 1, 300))
		return out_of(err_r, "trip_critical", p->trip_critical, "C",
		    p->trip_passive + 1, 300);
	if (p->temp_start != 0 && !within(p->temp_start, -50,
	    p->trip_critical - 0.001))
		return out_of(err_r, "temp_start", p->temp_start, "C", -50,
		    p->trip_critical - 0.001);
	if (!within(p->reboot_time, 1, 3600))
		return out_of(err_r, "reboot_time", p->reboot_time, "s", 1,
		    3600);
	if (!within(p->load_lag, LAB_HOST_LOAD_PERIOD, 3600))
		return out_of(err_r, "load_lag", p->load_lag, "s",
		    LAB_HOST_LOAD_PERIOD, 3600);
	if (p->mem_total_kb < 1024 || p->mem_total_kb > (1L << 40))
		return out_of(err_r, "mem_total_kb", p->mem_total_kb, "kB",
		    1024, (double)(1L << 40));
	if (p->mem_base_kb < 0 || p->mem_base_kb > p->mem_total_kb)
		return out_of(err_r, "mem_base_kb", p->mem_base_kb, "kB", 0,
		    p->mem_total_kb);
	if (p->mem_per_msg_kb < 0 || p->mem_per_msg_kb > p->mem_total_kb)
		return out_of(err_r, "mem_per_msg_kb", p->mem_per_msg_kb, "kB",
		    0, p->mem_total_kb);
	if (!within(p->front_work, 0, 1))
		return out_of(err_r, "front_work", p->front_work, "", 0, 1);
	return 0;
}

double
lab_host_temp_equilibrium(const struct lab_host_params *p, double u)
{
	return p->temp_idle + (p->temp_full - p->temp_idle) * u;
}

/* safe_share - the safe mail share of capacity, 0..1; -1: base breaks */
static double
safe_share(const struct lab_host_params *p, double load_per_cpu)
{
	double	 b = p->base_load, u, s;

	u = (p->trip_passive - p->temp_idle) / (p->temp_full - p->temp_idle);
	s = (MINIMUM(u, 1.0) - b) / (1 - b);
	if (load_per_cpu > 0)
		s = MINIMUM(s, load_per_cpu - b);
	return s < 0 ? -1 : MINIMUM(s, 1.0);
}

double
lab_host_safe_utilization(const struct lab_host_params *p,
    double load_per_cpu)
{
	double	 s = safe_share(p, load_per_cpu);

	return s < 0 ? 0 : p->base_load + (1 - p->base_load) * s;
}

double
lab_host_safe_rate(const struct lab_host_params *p, double load_per_cpu)
{
	double	 s = safe_share(p, load_per_cpu);

	return s < 0 ? 0 : p->capacity * s;
}

/*
 * The model's instantaneous quantities; all depend on n and up only.
 */

/* utilization - u(n) */
static double
utilization(const struct lab_host *h)
{
	double	 b = h->p.base_load;

	if (!h->up)
		return 0;
	return b + (1 - b) * (double)MINIMUM(h->n + h->nf, h->p.cpus) /
	    h->p.cpus;
}

/* temp_target - where the temperature heads now */
static double
temp_target(const struct lab_host *h)
{
	if (!h->up)
		return h->p.temp_ambient;
	return lab_host_temp_equilibrium(&h->p, utilization(h));
}

/* runnable - R: base load tasks and one per message in progress */
static double
runnable(const struct lab_host *h)
{
	return h->up ? h->p.base_load * h->p.cpus + (double)(h->n + h->nf) :
	    0;
}

/* job_rate - r(n), work per second each message in progress gets */
static double
job_rate(const struct lab_host *h)
{
	return h->p.capacity / (double)MAXIMUM(h->n + h->nf,
	    (long)h->p.cpus);
}

/* psi_now - the instantaneous "some" shares of cpu and io, "full" of io */
static void
psi_now(const struct lab_host *h, double *cpu, double *io, double *io_full)
{
	double	 c = h->p.cpus, x;

	*cpu = *io = *io_full = 0;
	if (!h->up || h->n + h->nf == 0)
		return;
	x = (runnable(h) - c) / c;
	*cpu = x < 0 ? 0 : MINIMUM(x, 1.0);
	if (h->n == 0)			/* sessions alone: no I/O wait */
		return;
	*io = 1 - pow(1 - h->p.io_wait, (double)h->n);
	*io_full = pow(h->p.io_wait, (double)h->n);
}

/* psi_evolve - x held for dt seconds */
static void
psi_evolve(struct psi *s, double x, double dt)
{
	int	 i;

	for (i = 0; i < 3; i++)
		s->avg[i] = x + (s->avg[i] - x) * exp(-dt / psi_window[i]);
	s->total += x * dt * 1e6;
}

/* temp_evolve - dt seconds toward target; counts the time above passive */
static void
temp_evolve(struct lab_host *h, double target, double dt)
{
	double	 t0 = h->temp, t1, pt = h->p.trip_passive, tau = h->p.tau;
	double	 above = 0;

	t1 = target + (t0 - target) * exp(-dt / tau);
	if (t0 > pt && t1 > pt)
		above = dt;
	else if (t0 <= pt && t1 > pt)	/* rising through it: target > pt */
		above = dt - tau * log((target - t0) / (target - pt));
	else if (t0 > pt && t1 <= pt)	/* falling through it */
		above = tau * log((t0 - target) / (pt - target));
	h->above_passive += above < 0 ? 0 : MINIMUM(above, dt);
	h->temp = t1;
	if (t1 > h->temp_peak)
		h->temp_peak = t1;
}

/* evolve - hold n and up from h->now to t: nothing else happens */
static void
evolve(struct lab_host *h, double t)
{
	double	 dt = t - h->now, u, cpu, io, io_full;

	if (dt <= 0)
		return;
	u = utilization(h);
	temp_evolve(h, temp_target(h), dt);
	h->busy += u * dt;
	h->busy_boot += u * dt;
	psi_now(h, &cpu, &io, &io_full);
	psi_evolve(&h->cpu_some, cpu, dt);
	psi_evolve(&h->io_some, io, dt);
	psi_evolve(&h->io_full, io_full, dt);
	h->now = t;
}

/*
 * rebase - the work clock to h->now, before n changes. Work is kept as a
 * base and a rate, and event times are set only when n or up change
 * (reschedule), never recomputed in between: so advancing in small steps
 * cannot round an event to "due" before its time, and a driver that jumps
 * from event to event and one that ticks see the same times.
 */
static void
rebase(struct lab_host *h)
{
	if (h->n + h->nf > 0)
		h->work_base += job_rate(h) * (h->now - h->t_base);
	h->t_base = h->now;
}

/*
 * next_finish - the work clock at which the next job is done: the older
 * of the two rings' heads (equal work within a ring: FIFO); *front_r is
 * 1 when it is the front door's (a tie goes to the delivery)
 */
static double
next_finish(const struct lab_host *h, int *front_r)
{
	double	 d = h->n > 0 ? h->jobs[h->head].finish : HUGE_VAL;
	double	 f = h->nf > 0 ? h->fjobs[h->fhead].finish : HUGE_VAL;

	if (front_r != NULL)
		*front_r = f < d;
	return MINIMUM(d, f);
}

/* reschedule - the next delivery and trip, after n or up changed */
static void
reschedule(struct lab_host *h)
{
	double	 left, target = temp_target(h), crit = h->p.trip_critical;

	h->t_done = h->t_trip = HUGE_VAL;
	if (!h->up)
		return;
	if (h->n + h->nf > 0) {
		left = next_finish(h, NULL) - h->work_base;
		h->t_done = h->now + (left > 0 ? left / job_rate(h) : 0);
	}
	if (target > crit)
		h->t_trip = h->temp >= crit ? h->now : h->now +
		    h->p.tau * log((target - h->temp) / (target - crit));
}

/* emit - one event to the caller's function */
static void
emit(lab_host_event_fn *fn, void *arg, enum lab_host_event_kind kind,
    double t, const struct job *j)
{
	struct lab_host_event	 ev;

	if (fn == NULL)
		return;
	ev.kind = kind;
	ev.front = 0;
	ev.time = t;
	ev.msgid = j != NULL ? j->id : 0;
	ev.offered_at = j != NULL ? j->offered_at : 0;
	fn(arg, &ev);
}

/* load_sample - the kernel's calc_global_load() */
static void
load_sample(struct lab_host *h)
{
	const double	 lag[3] = { h->p.load_lag, LOAD_LAG_5, LOAD_LAG_15 };
	double		 r = runnable(h), e;
	int		 i;

	for (i = 0; i < 3; i++) {
		e = exp(-LAB_HOST_LOAD_PERIOD / lag[i]);
		h->load[i] = h->load[i] * e + r * (1 - e);
	}
	h->next_sample += LAB_HOST_LOAD_PERIOD;
}

/* emit_front - one front-door event (DELIVERED: answered; DROPPED) */
static void
emit_front(lab_host_event_fn *fn, void *arg, enum lab_host_event_kind kind,
    double t, const struct job *j)
{
	struct lab_host_event	 ev;

	if (fn == NULL)
		return;
	ev.kind = kind;
	ev.front = 1;
	ev.time = t;
	ev.msgid = j->id;
	ev.offered_at = j->offered_at;
	fn(arg, &ev);
}

/* done - the job whose work is done first: a delivery or an answer */
static void
done(struct lab_host *h, lab_host_event_fn *fn, void *arg)
{
	struct job	 j;
	int		 front;

	next_finish(h, &front);
	if (front) {
		j = h->fjobs[h->fhead];
		h->fhead = (h->fhead + 1) % LAB_HOST_FRONT_MAX;
		h->nf--;
	} else {
		j = h->jobs[h->head];
		h->head = (h->head + 1) % h->p.conn_max;
		h->n--;
	}
	/* 0 when idle: keep the work clock small */
	h->work_base = h->n + h->nf > 0 ? j.finish : 0;
	h->t_base = h->now;
	reschedule(h);
	if (front) {
		h->front_answered++;
		emit_front(fn, arg, LAB_HOST_DELIVERED, h->now, &j);
		return;
	}
	h->delivered++;
	emit(fn, arg, LAB_HOST_DELIVERED, h->now, &j);
}

/* trip - critical: down, every message in progress dropped */
static void
trip(struct lab_host *h, lab_host_event_fn *fn, void *arg)
{
	long	 i;

	h->temp = h->p.trip_critical;
	if (h->temp > h->temp_peak)
		h->temp_peak = h->temp;
	h->up = 0;
	h->down_until = h->now + h->p.reboot_time;
	h->reboots++;
	emit(fn, arg, LAB_HOST_DOWN, h->now, NULL);
	for (i = 0; i < h->n; i++) {
		h->dropped++;
		emit(fn, arg, LAB_HOST_DROPPED, h->now,
		    &h->jobs[(h->head + i) % h->p.conn_max]);
	}
	for (i = 0; i < h->nf; i++) {
		h->front_cut++;
		emit_front(fn, arg, LAB_HOST_DROPPED, h->now,
		    &h->fjobs[(h->fhead + i) % LAB_HOST_FRONT_MAX]);
	}
	h->head = h->n = 0;
	h->fhead = h->nf = 0;
	h->work_base = 0;
	h->t_base = h->now;
	reschedule(h);
	memset(h->load, 0, sizeof(h->load));
	memset(&h->cpu_some, 0, sizeof(h->cpu_some));
	memset(&h->io_some, 0, sizeof(h->io_some));
	memset(&h->io_full, 0, sizeof(h->io_full));
}

/* boot - back up after the reboot */
static void
boot(struct lab_host *h, lab_host_event_fn *fn, void *arg)
{
	h->up = 1;
	h->boot = h->now;
	h->busy_boot = 0;
	reschedule(h);
	emit(fn, arg, LAB_HOST_UP, h->now, NULL);
}

struct lab_host *
lab_host_new(const struct lab_host_params *params, double now, char **err_r)
{
	struct lab_host	*h;
	double		 r;

	if (lab_host_params_check(params, err_r) == -1)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->p = *params;
	h->jobs = xreallocarray(NULL, (size_t)h->p.conn_max,
	    sizeof(*h->jobs));
	h->fjobs = xreallocarray(NULL, LAB_HOST_FRONT_MAX, sizeof(*h->fjobs));
	h->start = h->now = h->boot = now;
	h->up = 1;
	h->temp = h->p.temp_start != 0 ? h->p.temp_start :
	    lab_host_temp_equilibrium(&h->p, h->p.base_load);
	h->temp_peak = h->temp;
	r = runnable(h);		/* a host that has been running */
	h->load[0] = h->load[1] = h->load[2] = r;
	h->next_sample = now + LAB_HOST_LOAD_PERIOD;
	h->t_base = now;
	reschedule(h);
	return h;
}

void
lab_host_free(struct lab_host **hp)
{
	if (*hp == NULL)
		return;
	free((*hp)->jobs);
	free((*hp)->fjobs);
	free(*hp);
	*hp = NULL;
}

void
lab_host_advance(struct lab_host *h, double now, lab_host_event_fn *fn,
    void *arg)
{
	double	 t_sample, t_done, t_trip, t_up, t;

	if (!(now >= h->now))
		log_panic("lab_host_advance: time %.9g before the host's "
		    "%.9g", now, h->now);
	for (;;) {
		t_sample = h->next_sample;
		t_done = h->t_done;
		t_trip = h->t_trip;
		t_up = h->up ? HUGE_VAL : h->down_until;
		t = MINIMUM(MINIMUM(t_sample, t_done), MINIMUM(t_trip, t_up));
		if (t > now)
			break;
		evolve(h, t);
		/* one event per turn, in a fixed order when they tie */
		if (t == t_sample)
			load_sample(h);
		else if (t == t_done)
			done(h, fn, arg);
		else if (t == t_trip)
			trip(h, fn, arg);
		else
			boot(h, fn, arg);
	}
	evolve(h, now);
}

int
lab_host_offer(struct lab_host *h, double now, uint64_t msgid)
{
	struct job	*j;

	if (now > h->now) {
		if (now >= lab_host_next_event(h))
			log_panic("lab_host_offer: the event at %.9g is not "
			    "taken; lab_host_advance to %.9g first",
			    lab_host_next_event(h), now);
		lab_host_advance(h, now, NULL, NULL);	/* samples only */
	}
	if (!h->up || h->n >= h->p.conn_max) {
		h->refused++;
		return 0;
	}
	rebase(h);
	j = &h->jobs[(h->head + h->n) % h->p.conn_max];
	j->id = msgid;
	j->offered_at = now;
	j->finish = h->work_base + 1.0;
	h->n++;
	h->accepted++;
	reschedule(h);
	return 1;
}

int
lab_host_offer_front(struct lab_host *h, double now, uint64_t id)
{
	struct job	*j;

	if (now > h->now) {
		if (now >= lab_host_next_event(h))
			log_panic("lab_host_offer_front: the event at %.9g is "
			    "not taken; lab_host_advance to %.9g first",
			    lab_host_next_event(h), now);
		lab_host_advance(h, now, NULL, NULL);	/* samples only */
	}
	if (!h->up || h->nf >= LAB_HOST_FRONT_MAX) {
		h->front_refused++;
		return 0;
	}
	rebase(h);
	j = &h->fjobs[(h->fhead + h->nf) % LAB_HOST_FRONT_MAX];
	j->id = id;
	j->offered_at = now;
	j->finish = h->work_base + h->p.front_work;
	h->nf++;
	h->front_taken++;
	reschedule(h);
	return 1;
}

double
lab_host_next_event(const struct lab_host *h)
{
	if (!h->up)
		return h->down_until;
	return MINIMUM(h->t_done, h->t_trip);
}

/* mem_used_kb - memory in use now */
static long
mem_used_kb(const struct lab_host *h)
{
	long	 used = h->p.mem_base_kb + h->n * h->p.mem_per_msg_kb;

	return MINIMUM(used, h->p.mem_total_kb);
}

void
lab_host_state(const struct lab_host *h, struct lab_host_state *st)
{
	memset(st, 0, sizeof(*st));
	st->time = h->now;
	st->up = h->up;
	st->down_until = h->up ? 0 : h->down_until;
	st->in_progress = h->n;
	st->front_in_progress = h->nf;
	st->utilization = utilization(h);
	st->utilization_avg = h->now > h->start ?
	    h->busy / (h->now - h->start) : st->utilization;
	st->temperature = h->temp;
	st->temp_target = temp_target(h);
	st->temp_peak = h->temp_peak;
	st->above_passive = h->above_passive;
	st->runnable = runnable(h);
	st->load1 = h->load[0];
	st->load5 = h->load[1];
	st->load15 = h->load[2];
	st->psi_cpu_avg10 = h->cpu_some.avg[0];
	st->psi_io_avg10 = h->io_some.avg[0];
	st->mem_available = (double)(h->p.mem_total_kb - mem_used_kb(h)) /
	    (double)h->p.mem_total_kb;
	st->reboots = h->reboots;
	st->accepted = h->accepted;
	st->refused = h->refused;
	st->delivered = h->delivered;
	st->dropped = h->dropped;
	st->front_taken = h->front_taken;
	st->front_refused = h->front_refused;
	st->front_answered = h->front_answered;
	st->front_cut = h->front_cut;
}

/*
 * The fake /proc and /sys. The formats are the kernel's (proc(5),
 * Documentation/accounting/psi.rst, sysfs-class-thermal); src/lib/sensor.c
 * reads them back.
 */

#define PROC_FILE_MAX	65536		/* proc/stat of 1024 CPUs fits */

static const struct psi	 psi_zero;

/* fmt_psi - a /proc/pressure file; percentages with 2 decimals */
static void
fmt_psi(char *buf, size_t size, const struct psi *some,
    const struct psi *full)
{
	if (full == NULL)
		full = &psi_zero;
	snprintf(buf, size,
	    "some avg10=%.2f avg60=%.2f avg300=%.2f total=%.0f\n"
	    "full avg10=%.2f avg60=%.2f avg300=%.2f total=%.0f\n",
	    some->avg[0] * 100, some->avg[1] * 100, some->avg[2] * 100,
	    floor(some->total), full->avg[0] * 100, full->avg[1] * 100,
	    full->avg[2] * 100, floor(full->total));
}

/* fmt_stat - proc/stat: jiffies since boot, split evenly over the CPUs */
static void
fmt_stat(const struct lab_host *h, char *buf, size_t size)
{
	double		 up_s = h->up ? h->now - h->boot : 0;
	double		 busy = h->up ? h->busy_boot : 0;
	unsigned long long user, idle;
	size_t		 len;
	int		 i, c = h->p.cpus;

	user = (unsigned long long)(busy * USER_HZ);
	idle = (unsigned long long)((up_s - busy) * USER_HZ);
	len = (size_t)snprintf(buf, size, "cpu  %llu 0 0 %llu 0 0 0 0 0 0\n",
	    user * c, idle * c);
	for (i = 0; i < c && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len,
		    "cpu%d %llu 0 0 %llu 0 0 0 0 0 0\n", i, user, idle);
	if (len < size)
		snprintf(buf + len, size - len, "procs_running %ld\n"
		    "procs_blocked 0\n", lround(runnable(h)) + 1);
}

/* fmt_file - the text of file i (its path into *rel); 0 past the last */
static int
fmt_file(const struct lab_host *h, int i, const char **rel, char *buf,
    size_t size)
{
	long	 r = lround(runnable(h)) + 1;	/* the reader counts too */

	switch (i) {
	case 0:
		*rel = "proc/loadavg";
		snprintf(buf, size, "%.2f %.2f %.2f %ld/%ld %ld\n", h->load[0],
		    h->load[1], h->load[2], r, r + TASKS_IDLE,
		    (1000 + h->accepted) % PID_MAX);
		return 1;
	case 1:
		*rel = "proc/stat";
		fmt_stat(h, buf, size);
		return 1;
	case 2:
		*rel = "proc/meminfo";
		snprintf(buf, size, "MemTotal:       %ld kB\n"
		    "MemFree:        %ld kB\nMemAvailable:   %ld kB\n",
		    h->p.mem_total_kb, h->p.mem_total_kb - mem_used_kb(h),
		    h->p.mem_total_kb - mem_used_kb(h));
		return 1;
	case 3:
		*rel = "proc/pressure/cpu";	/* full: 0 system-wide */
		fmt_psi(buf, size, &h->cpu_some, NULL);
		return 1;
	case 4:
		*rel = "proc/pressure/io";
		fmt_psi(buf, size, &h->io_some, &h->io_full);
		return 1;
	case 5:
		*rel = "proc/pressure/memory";
		fmt_psi(buf, size, &psi_zero, NULL);
		return 1;
	case 6:
		*rel = "sys/class/thermal/thermal_zone0/temp";
		snprintf(buf, size, "%ld\n", lround(h->temp * 1000));
		return 1;
	case 7:
		*rel = "sys/class/thermal/thermal_zone0/type";
		snprintf(buf, size, "ebb-lab\n");
		return 1;
	case 8:
		*rel = "sys/class/thermal/thermal_zone0/trip_point_0_type";
		snprintf(buf, size, "passive\n");
		return 1;
	case 9:
		*rel = "sys/class/thermal/thermal_zone0/trip_point_0_temp";
		snprintf(buf, size, "%ld\n", lround(h->p.trip_passive * 1000));
		return 1;
	case 10:
		*rel = "sys/class/thermal/thermal_zone0/trip_point_1_type";
		snprintf(buf, size, "critical\n");
		return 1;
	case 11:
		*rel = "sys/class/thermal/thermal_zone0/trip_point_1_temp";
		snprintf(buf, size, "%ld\n",
		    lround(h->p.trip_critical * 1000));
		return 1;
	}
	return 0;
}

/* make_dirs - every directory of path below its first skip bytes */
static int
make_dirs(char *path, size_t skip, char **err_r)
{
	char	*p;

	for (p = path + skip + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			*err_r = xasprintf("mkdir %s: %s", path,
			    strerror(errno));
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* write_atomic - root/rel holds text, replaced by a rename */
static int
write_atomic(const char *root, const char *rel, const char *text,
    char **err_r)
{
	char	*path, *tmp = NULL;
	size_t	 len = strlen(text), off = 0;
	ssize_t	 n;
	int	 fd = -1, rc = -1;

	path = xasprintf("%s/%s", root, rel);
	if (make_dirs(path, strlen(root), err_r) == -1)
		goto out;
	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0644) == -1) {
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			*err_r = xasprintf("%s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) == -1) {
		fd = -1;
		*err_r = xasprintf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		*err_r = xasprintf("rename %s: %s", path, strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(path);
	return rc;
}

int
lab_host_write_proc(const struct lab_host *h, const char *root,
    char **err_r)
{
	char		*buf = xmalloc(PROC_FILE_MAX);
	const char	*rel;
	int		 i, rc = 0;

	for (i = 0; rc == 0 && fmt_file(h, i, &rel, buf, PROC_FILE_MAX); i++)
		rc = write_atomic(root, rel, buf, err_r);
	free(buf);
	return rc;
}
