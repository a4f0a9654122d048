/*
 * test_lab_host.c - the outage lab's modelled mail host
 *
 * Each property is checked on a table of host models, written as
 * "key=value ..." overrides of the lab's default host, driven by a paced
 * (open loop) or closed-loop (k messages always in progress) sender with
 * the time passed in; nothing sleeps. Expected values come from the
 * model's definition in host.c (1 - 1/e after tau, the kernel's decay,
 * Teq(u)), not from the model's output. The fake /proc the host writes is
 * tested in test_lab_proc.c.
 */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/util.h"
#include "lab/host.h"

/* a host that never gets hot enough to trip */
#define COOL		"temp_full=70"

/*
 * Host models as text: "capacity=20 cpus=2 ..." over the defaults
 */

static const struct {
	const char	*name;
	size_t		 off;
	char		 type;		/* 'd' double, 'l' long, 'i' int */
} fields[] = {
#define F(n, t)	{ #n, offsetof(struct lab_host_params, n), t }
	F(capacity, 'd'), F(cpus, 'i'), F(conn_max, 'l'),
	F(base_load, 'd'), F(io_wait, 'd'), F(temp_ambient, 'd'),
	F(temp_idle, 'd'), F(temp_full, 'd'), F(temp_start, 'd'),
	F(tau, 'd'), F(trip_passive, 'd'), F(trip_critical, 'd'),
	F(reboot_time, 'd'), F(load_lag, 'd'), F(mem_total_kb, 'l'),
	F(mem_base_kb, 'l'), F(mem_per_msg_kb, 'l'),
#undef F
};

/* set_field - p's field name to v */
static void
set_field(struct lab_host_params *p, const char *name, double v)
{
	char	*base = (char *)p;
	size_t	 i;

	for (i = 0; i < nitems(fields); i++) {
		if (strcmp(fields[i].name, name) != 0)
			continue;
		if (fields[i].type == 'd')
			*(double *)(base + fields[i].off) = v;
		else if (fields[i].type == 'l')
			*(long *)(base + fields[i].off) = (long)v;
		else
			*(int *)(base + fields[i].off) = (int)v;
		return;
	}
	fail_msg("no parameter %s", name);
}

/* params_of - the default host with spec's "key=value" pairs applied */
static void
params_of(const char *spec, struct lab_host_params *p)
{
	char	*s = xstrdup(spec != NULL ? spec : ""), *tok, *eq, *save;

	lab_host_params_default(p);
	for (tok = strtok_r(s, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			fail_msg("bad spec item %s", tok);
		*eq = '\0';
		set_field(p, tok, strcmp(eq + 1, "nan") == 0 ? NAN :
		    strtod(eq + 1, NULL));
	}
	free(s);
}

/* host_of - a new host from spec at time 0; fails the test on error */
static struct lab_host *
host_of(const char *spec, struct lab_host_params *p)
{
	struct lab_host	*h;
	char		*err = NULL;

	params_of(spec, p);
	if ((h = lab_host_new(p, 0, &err)) == NULL)
		fail_msg("%s: %s", spec, err);
	return h;
}

/*
 * What the host did, as its events tell
 */

struct rec {
	long		 delivered, dropped, down, up;
	long		 owed;		/* deliveries not yet replaced */
	double		 lat_sum, lat_max;
	double		 t_down, t_up;	/* the first of each */
	double		 last_time;
	uint64_t	 last_id;
	int		 out_of_order;
	double		*t_done;	/* delivery times */
	uint64_t	*id_done, *id_drop;
	size_t		 cap_done, cap_drop;
};

static void
rec_event(void *arg, const struct lab_host_event *ev)
{
	struct rec	*r = arg;

	if (ev->time < r->last_time)
		r->out_of_order = 1;
	r->last_time = ev->time;
	switch (ev->kind) {
	case LAB_HOST_DELIVERED:
		if (r->delivered > 0 && ev->msgid < r->last_id)
			r->out_of_order = 1;
		r->last_id = ev->msgid;
		if ((size_t)r->delivered == r->cap_done) {
			r->cap_done = r->cap_done * 2 + 64;
			r->t_done = xreallocarray(r->t_done, r->cap_done,
			    sizeof(*r->t_done));
			r->id_done = xreallocarray(r->id_done, r->cap_done,
			    sizeof(*r->id_done));
		}
		r->t_done[r->delivered] = ev->time;
		r->id_done[r->delivered++] = ev->msgid;
		r->lat_sum += ev->time - ev->offered_at;
		r->lat_max = MAXIMUM(r->lat_max, ev->time - ev->offered_at);
		r->owed++;
		break;
	case LAB_HOST_DROPPED:
		if ((size_t)r->dropped == r->cap_drop) {
			r->cap_drop = r->cap_drop * 2 + 64;
			r->id_drop = xreallocarray(r->id_drop, r->cap_drop,
			    sizeof(*r->id_drop));
		}
		r->id_drop[r->dropped++] = ev->msgid;
		break;
	case LAB_HOST_DOWN:
		if (r->down++ == 0)
			r->t_down = ev->time;
		break;
	case LAB_HOST_UP:
		if (r->up++ == 0)
			r->t_up = ev->time;
		break;
	}
}

static void
rec_free(struct rec *r)
{
	free(r->t_done);
	free(r->id_done);
	free(r->id_drop);
	memset(r, 0, sizeof(*r));
}

/*
 * Senders
 */

/*
 * run_closed - keep k messages in progress from t0 to t_end, jumping from
 * event to event; a delivered message is replaced at once (a refused
 * replacement is not retried)
 */
static void
run_closed(struct lab_host *h, long k, double t0, double t_end,
    struct rec *r, uint64_t *next_id)
{
	double	 te;
	long	 i;

	lab_host_advance(h, t0, rec_event, r);
	for (i = 0; i < k; i++)
		lab_host_offer(h, t0, (*next_id)++);
	r->owed = 0;
	while ((te = lab_host_next_event(h)) <= t_end) {
		lab_host_advance(h, te, rec_event, r);
		for (; r->owed > 0; r->owed--)
			lab_host_offer(h, te, (*next_id)++);
	}
	lab_host_advance(h, t_end, rec_event, r);
}

/* run_paced - offer at rate msg/s from t0 until t_end; refusals are lost */
static void
run_paced(struct lab_host *h, double rate, double t0, double t_end,
    struct rec *r, uint64_t *next_id, long *refused_r)
{
	double	 t;
	long	 k;

	for (k = 0; (t = t0 + (double)k / rate) < t_end; k++) {
		lab_host_advance(h, t, rec_event, r);
		if (!lab_host_offer(h, t, (*next_id)++) && refused_r != NULL)
			(*refused_r)++;
	}
	lab_host_advance(h, t_end, rec_event, r);
}

/*
 * Parameters
 */

struct check_row {
	const char	*spec;
	const char	*err;		/* NULL: valid */
};

static const struct check_row check_rows[] = {
	{ "", NULL },
	{ "capacity=2", NULL },
	{ "capacity=200", NULL },
	{ "capacity=1.9", "capacity 1.9 msg/s is outside 2..200" },
	{ "capacity=250", "capacity 250 msg/s is outside 2..200" },
	{ "capacity=0", "capacity 0 msg/s is outside 2..200" },
	{ "capacity=nan", "capacity nan msg/s is outside 2..200" },
	{ "tau=10", NULL },
	{ "tau=120", NULL },
	{ "tau=9.5", "tau 9.5 s is outside 10..120" },
	{ "tau=121", "tau 121 s is outside 10..120" },
	{ "cpus=0", "cpus 0 is outside 1..1024" },
	{ "conn_max=0", "conn_max 0 is outside 1..1000000" },
	{ "base_load=1", "base_load 1 is outside 0..0.99" },
	{ "base_load=-0.1", "base_load -0.1 is outside 0..0.99" },
	{ "io_wait=1", "io_wait 1 is outside 0..0.99" },
	{ "temp_idle=20", "temp_idle 20 C is outside 25..150" },
	{ "temp_full=40", "temp_full 40 C is outside 41..300" },
	{ "trip_passive=40", "trip_passive 40 C is outside 41..250" },
	{ "trip_critical=80", "trip_critical 80 C is outside 81..300" },
	{ "temp_start=90", "temp_start 90 C is outside -50..89.999" },
	{ "reboot_time=0", "reboot_time 0 s is outside 1..3600" },
	{ "load_lag=1", "load_lag 1 s is outside 5..3600" },
	{ "mem_base_kb=-1", "mem_base_kb -1 kB is outside 0..4194304" },
};

static void
test_params_check(void **state)
{
	const struct check_row *row = *state;
	struct lab_host_params	 p;
	struct lab_host		*h;
	char			*err;
	int			 rc;

	params_of(row->spec, &p);
	err = NULL;
	rc = lab_host_params_check(&p, &err);
	if (row->err == NULL) {
		if (rc != 0)
			fail_msg("\"%s\": refused: %s",
			    row->spec, err);
		return;
	}
	if (rc != -1 || err == NULL)
		fail_msg("\"%s\": accepted", row->spec);
	if (strcmp(err, row->err) != 0)
		fail_msg("\"%s\": \"%s\", want \"%s\"",
		    row->spec, err, row->err);
	free(err);
	/* lab_host_new refuses the same, with the same words */
	err = NULL;
	h = lab_host_new(&p, 0, &err);
	assert_null(h);
	assert_string_equal(err, row->err);
	free(err);
}

/*
 * Safe capacity, by the formula (the simulations are further down)
 */

struct safe_row {
	const char	*spec;
	double		 load_per_cpu;
	double		 u_safe;	/* by hand from host.c's formula */
	double		 rate;
};

static const struct safe_row safe_rows[] = {
	/* (80 - 40) / (100 - 40) = 2/3; mail share (2/3 - .1) / .9 */
	{ "", 0, 2.0 / 3, 20 * (2.0 / 3 - 0.1) / 0.9 },
	{ "base_load=0", 0, 2.0 / 3, 20 * 2.0 / 3 },
	{ "base_load=0 capacity=200 trip_passive=70", 0, 0.5, 100 },
	/* a load limit of 0.5 per CPU: share 0.5 - b */
	{ "base_load=0", 0.5, 0.5, 10 },
	{ "base_load=0.1", 0.5, 0.1 + 0.9 * 0.4, 8 },
	/* a load limit looser than the thermal one changes nothing */
	{ "base_load=0", 2.0, 2.0 / 3, 20 * 2.0 / 3 },
	/* never hot enough: the whole capacity */
	{ COOL, 0, 1, 20 },
	/* the base load alone is past the passive trip */
	{ "base_load=0.7", 0, 0, 0 },
	{ "base_load=0.6", 0.5, 0, 0 },
};

static void
test_safe_formula(void **state)
{
	const struct safe_row *r = *state;
	struct lab_host_params	 p;

	params_of(r->spec, &p);
	if (fabs(lab_host_safe_utilization(&p, r->load_per_cpu) -
	    r->u_safe) > 1e-9)
		fail_msg("\"%s\" limit %g: u_safe %g, want %g", r->spec,
		    r->load_per_cpu, lab_host_safe_utilization(&p,
		    r->load_per_cpu), r->u_safe);
	if (fabs(lab_host_safe_rate(&p, r->load_per_cpu) - r->rate) >
	    1e-9)
		fail_msg("\"%s\" limit %g: rate %g, want %g", r->spec,
		    r->load_per_cpu, lab_host_safe_rate(&p,
		    r->load_per_cpu), r->rate);
}

/*
 * Service: throughput and latency
 */

struct flow_row {
	const char	*spec;
	double		 load;		/* offered rate / capacity */
};

static const struct flow_row flow_rows[] = {
	{ COOL " capacity=20 cpus=2", 0.5 },
	{ COOL " capacity=20 cpus=2", 1.0 },
	{ COOL " capacity=20 cpus=2", 2.0 },
	{ COOL " capacity=20 cpus=2", 5.0 },
	{ COOL " capacity=2 cpus=1", 3.0 },
	{ COOL " capacity=200 cpus=4 conn_max=50", 1.5 },
	{ COOL " capacity=7.5 cpus=8 conn_max=1000", 10.0 },
	{ COOL " capacity=20 cpus=2 base_load=0.5", 2.0 },
	{ COOL " capacity=20 cpus=2 base_load=0.5", 0.9 },
	{ COOL " capacity=200 cpus=4", 0.8 },
};

/*
 * test_throughput - deliveries never outrun capacity. Each took 1 / C of
 * the whole host, so from an empty start at most C t are delivered by time
 * t. Below capacity a paced stream never has a message wait for a CPU, so
 * over any stretch [t_i, t_j] of delivery times j - i + 1 <= C (t_j - t_i)
 * + cpus (cpus may finish together), and all is delivered, in the order
 * offered. Past capacity the host delivers C per second in the long run:
 * over the second half of the run C dur / 2, give or take the work that
 * was in progress at its ends (at most conn_max messages). (Processor
 * sharing does let a stretch of deliveries come faster than C: messages
 * that got their work while fewer shared the host finish close together.)
 */
static void
test_throughput(void **state)
{
	const struct flow_row *row = *state;
	const double		 dur = 200;
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct rec		 r;
	uint64_t		 id;
	double			 a, amin, worst;
	long			 refused, offered, late;
	size_t			 j;

	memset(&r, 0, sizeof(r));
	h = host_of(row->spec, &p);
	id = 1;
	refused = 0;
	run_paced(h, p.capacity * row->load, 0, dur, &r, &id,
	    &refused);
	offered = (long)(id - 1);
	amin = HUGE_VAL;
	worst = -HUGE_VAL;
	late = 0;
	for (j = 0; j < (size_t)r.delivered; j++) {
		if ((double)(j + 1) > p.capacity * r.t_done[j] + 1e-9)
			fail_msg("\"%s\" x%g: %zu delivered by %g s",
			    row->spec, row->load,
			    j + 1, r.t_done[j]);
		a = (double)j - p.capacity * r.t_done[j];
		amin = MINIMUM(amin, a);
		worst = MAXIMUM(worst, a - amin);
		if (r.t_done[j] > dur / 2)
			late++;
	}
	assert_false(r.out_of_order);
	if (row->load <= 1.0) {
		if (worst > p.cpus - 1 + 1e-6)
			fail_msg("\"%s\" x%g: %g deliveries beyond "
			    "capacity", row->spec,
			    row->load, worst - (p.cpus - 1));
		assert_int_equal(refused, 0);
		/* all but the last service time's worth */
		if (r.delivered < offered - p.cpus)
			fail_msg("\"%s\" x%g: %ld of %ld delivered",
			    row->spec, row->load,
			    r.delivered, offered);
	} else if (fabs(late - p.capacity * dur / 2) > p.conn_max) {
		fail_msg("\"%s\" x%g: %ld delivered in the second "
		    "half, want %g +- %ld", row->spec,
		    row->load, late, p.capacity * dur / 2,
		    p.conn_max);
	}
	lab_host_free(&h);
	rec_free(&r);
}

/*
 * test_latency - the reply waits for processing: a lone message takes
 * cpus / C, and latency grows with the offered load up to conn_max / C
 * when the connections are all taken; offers beyond them are refused.
 */
static void
test_latency(void **state)
{
	static const double	 loads[] = { 0.25, 0.5, 0.9, 1.2, 2.0, 4.0 };
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct rec		 r;
	uint64_t		 id;
	double			 mean, prev = 0, alone;
	long			 refused;
	size_t			 i;

	for (i = 0; i < nitems(loads); i++) {
		memset(&r, 0, sizeof(r));
		h = host_of(COOL " capacity=20 cpus=2 conn_max=100", &p);
		id = 1;
		refused = 0;
		run_paced(h, p.capacity * loads[i], 0, 300, &r, &id, &refused);
		mean = r.lat_sum / (double)r.delivered;
		alone = p.cpus / p.capacity;
		if (mean < prev - 1e-9)
			fail_msg("load x%g: mean latency %g below %g at a "
			    "lighter load", loads[i], mean, prev);
		if (loads[i] <= 0.5) {
			/* spaced at >= cpus / C: never two at once */
			assert_true(fabs(mean - alone) < 1e-9);
			assert_true(fabs(r.lat_max - alone) < 1e-9);
		}
		if (loads[i] > 1) {
			assert_true(mean > 10 * alone);
			assert_true(r.lat_max <= p.conn_max / p.capacity +
			    1e-6);
			assert_true(refused > 0);
		} else {
			assert_int_equal(refused, 0);
		}
		if (loads[i] >= 2.0)	/* full nearly all along */
			assert_true(mean > 0.9 * p.conn_max / p.capacity);
		prev = mean;
		lab_host_free(&h);
		rec_free(&r);
	}
}

static void
test_refused_when_full(void **state)
{
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct lab_host_state	 st;
	struct rec		 r;
	double			 te;

	memset(&r, 0, sizeof(r));
	h = host_of(COOL " conn_max=3", &p);
	assert_true(lab_host_next_event(h) == HUGE_VAL);
	assert_int_equal(lab_host_offer(h, 0, 1), 1);
	assert_int_equal(lab_host_offer(h, 0, 2), 1);
	assert_int_equal(lab_host_offer(h, 0.01, 3), 1);
	assert_int_equal(lab_host_offer(h, 0.01, 4), 0);
	lab_host_state(h, &st);
	assert_int_equal(st.in_progress, 3);
	assert_int_equal(st.accepted, 3);
	assert_int_equal(st.refused, 1);
	/* 1 and 2 came together and had the same share: done together */
	te = lab_host_next_event(h);
	lab_host_advance(h, te, rec_event, &r);
	assert_int_equal(r.delivered, 2);
	assert_true(r.t_done[0] == r.t_done[1]);
	assert_int_equal(lab_host_offer(h, te, 5), 1);
	assert_int_equal(lab_host_offer(h, te, 6), 1);
	assert_int_equal(lab_host_offer(h, te, 7), 0);
	lab_host_free(&h);
	assert_null(h);
	lab_host_free(&h);
	rec_free(&r);
}

/*
 * Thermal: first order with time constant tau
 */

struct tau_row {
	const char	*spec;
	long		 k;		/* messages kept in progress */
};

static const struct tau_row tau_rows[] = {
	{ "tau=10 cpus=1", 3 },
	{ "tau=30", 6 },
	{ "tau=60 capacity=200 cpus=4", 40 },
	{ "tau=120 capacity=2", 4 },
	{ "tau=45 base_load=0.3", 2 },
};

/*
 * test_thermal_tau - from the start temperature, held at u = 1, T covers
 * 1 - 1/e of the way to Teq(1) in tau and 1 - 1/e^3 in 3 tau
 */
static void
test_thermal_tau(void **state)
{
	const struct tau_row *row = *state;
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct lab_host_state	 st;
	struct rec		 r;
	uint64_t		 id;
	double			 t0, teq, frac;
	char			*spec;
	int			 m;

	spec = xasprintf("%s temp_start=45 temp_full=100 "
	    "trip_passive=101 trip_critical=110", row->spec);
	h = host_of(spec, &p);
	t0 = p.temp_start;
	teq = lab_host_temp_equilibrium(&p, 1.0);
	assert_true(fabs(teq - p.temp_full) < 1e-12);
	memset(&r, 0, sizeof(r));
	id = 1;
	for (m = 1; m <= 3; m += 2) {
		run_closed(h, m == 1 ? row->k : 0,
		    m == 1 ? 0 : p.tau, m * p.tau, &r, &id);
		lab_host_state(h, &st);
		assert_true(st.utilization == 1.0);
		assert_true(fabs(st.temp_target - teq) < 1e-12);
		frac = (st.temperature - t0) / (teq - t0);
		if (fabs(frac - (1 - exp(-m))) > 1e-9)
			fail_msg("%s: at %d tau %.9f of the way, want "
			    "%.9f", spec, m, frac, 1 - exp(-m));
	}
	assert_int_equal(st.reboots, 0);
	assert_true(fabs(st.temp_peak - st.temperature) < 1e-9);
	lab_host_free(&h);
	rec_free(&r);
	free(spec);
}

/*
 * Reboot at the critical trip
 */

struct reboot_row {
	const char	*spec;
	long		 k;
};

static const struct reboot_row reboot_rows[] = {
	{ "", 10 },
	{ "tau=10 reboot_time=5", 3 },
	{ "tau=120 reboot_time=60 capacity=200 cpus=4", 80 },
	{ "tau=20 reboot_time=300 temp_ambient=30 conn_max=7", 7 },
};

/*
 * test_reboot - held at u = 1 from temp_start, the host trips at
 * tau ln((Tfull - T0) / (Tfull - Tcrit)); every message in progress is
 * dropped and never delivered, offers are refused for reboot_time, and it
 * comes back having cooled toward ambient for reboot_time.
 */
static void
test_reboot(void **state)
{
	const struct reboot_row *row = *state;
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct lab_host_state	 st;
	struct rec		 r;
	uint64_t		 id;
	double			 t0, tx, tup, want, probe[3];
	char			*spec;
	size_t			 a, b;
	int			 j;

	spec = xasprintf("%s base_load=0 temp_start=50",
	    row->spec);
	h = host_of(spec, &p);
	t0 = p.temp_start;
	tx = p.tau * log((p.temp_full - t0) /
	    (p.temp_full - p.trip_critical));
	memset(&r, 0, sizeof(r));
	id = 1;
	run_closed(h, row->k, 0, tx + 0.5, &r, &id);
	assert_int_equal(r.down, 1);
	if (fabs(r.t_down - tx) > 1e-6)
		fail_msg("%s: down at %.9f, want %.9f", spec, r.t_down,
		    tx);
	assert_int_equal(r.dropped, row->k);
	lab_host_state(h, &st);
	assert_false(st.up);
	assert_int_equal(st.reboots, 1);
	assert_int_equal(st.in_progress, 0);
	assert_true(st.load1 == 0 && st.psi_cpu_avg10 == 0);
	assert_true(fabs(st.temp_peak - p.trip_critical) < 1e-9);
	assert_true(fabs(st.down_until - (tx + p.reboot_time)) < 1e-9);
	/* refused all the while it is down */
	tup = tx + p.reboot_time;
	probe[0] = tx + 0.75;
	probe[1] = tx + p.reboot_time / 2;
	probe[2] = tup - 1e-3;
	for (j = 0; j < 3; j++) {
		lab_host_advance(h, probe[j], rec_event, &r);
		assert_int_equal(lab_host_offer(h, probe[j], id++), 0);
	}
	assert_true(fabs(lab_host_next_event(h) - tup) < 1e-9);
	tup = lab_host_next_event(h);
	lab_host_advance(h, tup, rec_event, &r);
	assert_int_equal(r.up, 1);
	assert_true(fabs(r.t_up - tup) < 1e-9);
	lab_host_state(h, &st);
	assert_true(st.up);
	want = p.temp_ambient + (p.trip_critical - p.temp_ambient) *
	    exp(-p.reboot_time / p.tau);
	if (fabs(st.temperature - want) > 1e-6)
		fail_msg("%s: back at %.6f C, want %.6f", spec,
		    st.temperature, want);
	assert_int_equal(lab_host_offer(h, tup, id++), 1);
	lab_host_advance(h, tup + 60, rec_event, &r);
	/* the dropped ones never come back as delivered */
	for (a = 0; a < (size_t)r.dropped; a++)
		for (b = 0; b < (size_t)r.delivered; b++)
			if (r.id_drop[a] == r.id_done[b])
				fail_msg("%s: message %llu dropped and "
				    "delivered", spec, (unsigned long
				    long)r.id_drop[a]);
	lab_host_state(h, &st);
	assert_int_equal(st.dropped, r.dropped);
	assert_int_equal(st.delivered, r.delivered);
	assert_false(r.out_of_order);
	lab_host_free(&h);
	rec_free(&r);
	free(spec);
}

/*
 * The kernel's averages: load and PSI
 */

struct lag_row {
	const char	*spec;
	long		 n;		/* runnable from t = 0 */
};

static const struct lag_row lag_rows[] = {
	{ "load_lag=60", 8 },
	{ "load_lag=60 cpus=4 capacity=200", 50 },
	{ "load_lag=30", 3 },
	{ "load_lag=120 capacity=2", 20 },
	{ "load_lag=15 cpus=1", 1 },
};

/*
 * test_load_lag - after a step from 0 to n runnable the 1-minute average
 * is n (1 - e^-(5m/lag)) after m samples: 1 - 1/e of n at t = lag, not
 * before; the runnable count is n at once.
 */
static void
test_load_lag(void **state)
{
	const struct lag_row *row = *state;
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct lab_host_state	 st;
	struct rec		 r;
	uint64_t		 id;
	double			 want, t;
	char			*spec;
	long			 m;

	spec = xasprintf("%s " COOL " base_load=0", row->spec);
	h = host_of(spec, &p);
	lab_host_state(h, &st);
	assert_true(st.load1 == 0 && st.runnable == 0);
	memset(&r, 0, sizeof(r));
	id = 1;
	run_closed(h, row->n, 0, 0, &r, &id);
	lab_host_state(h, &st);
	assert_true(st.runnable == (double)row->n);
	assert_true(st.load1 == 0);
	for (m = 1; m * LAB_HOST_LOAD_PERIOD <= 2 * p.load_lag; m++) {
		t = m * LAB_HOST_LOAD_PERIOD;
		run_closed(h, 0, t - LAB_HOST_LOAD_PERIOD, t, &r, &id);
		lab_host_state(h, &st);
		want = row->n * (1 - exp(-t / p.load_lag));
		if (fabs(st.load1 - want) > 1e-9)
			fail_msg("%s: load1 %g at %g s, want %g", spec,
			    st.load1, t, want);
		if (t < p.load_lag)
			assert_true(st.load1 < row->n *
			    (1 - exp(-1)));
		if (t == p.load_lag)
			assert_true(fabs(st.load1 / row->n -
			    (1 - exp(-1))) < 1e-9);
		assert_true(st.load5 < st.load1);
		assert_true(st.load15 < st.load5);
	}
	lab_host_free(&h);
	rec_free(&r);
	free(spec);
}

struct psi_row {
	const char	*spec;
	long		 n;
	double		 cpu;		/* instantaneous "some", by hand */
	double		 io;
};

static const struct psi_row psi_rows[] = {
	{ "cpus=2 io_wait=0.05", 1, 0, 0.05 },
	{ "cpus=2 io_wait=0.05", 2, 0, 1 - 0.95 * 0.95 },
	{ "cpus=2 io_wait=0.1", 3, 0.5, 1 - 0.9 * 0.9 * 0.9 },
	{ "cpus=2 io_wait=0", 8, 1, 0 },
	{ "cpus=4 capacity=200 io_wait=0.2", 5, 0.25, 1 - 0.8 * 0.8 * 0.8 *
	    0.8 * 0.8 },
};

/* test_psi - avg10 is a 10 s exponential average of the "some" share */
static void
test_psi(void **state)
{
	const struct psi_row *row = *state;
	struct lab_host_params	 p;
	struct lab_host		*h;
	struct lab_host_state	 st;
	struct rec		 r;
	uint64_t		 id;
	double			 f;
	char			*spec;

	spec = xasprintf("%s " COOL " base_load=0", row->spec);
	h = host_of(spec, &p);
	memset(&r, 0, sizeof(r));
	id = 1;
	run_closed(h, row->n, 0, 10, &r, &id);
	lab_host_state(h, &st);
	f = 1 - exp(-1);
	if (fabs(st.psi_cpu_avg10 - row->cpu * f) > 1e-9 ||
	    fabs(st.psi_io_avg10 - row->io * f) > 1e-9)
		fail_msg("%s n=%ld: cpu %g io %g, want %g %g", spec,
		    row->n, st.psi_cpu_avg10, st.psi_io_avg10,
		    row->cpu * f, row->io * f);
	lab_host_free(&h);
	rec_free(&r);
	free(spec);
}

/*
 * Safe capacity, simulated
 */

struct hold_row {
	const char	*spec;
	double		 load_per_cpu;
};

static const struct hold_row hold_rows[] = {
	{ "", 0 },
	{ "base_load=0", 0 },
	{ "tau=10 capacity=2 cpus=1", 0 },
	{ "tau=120 capacity=200 cpus=4 trip_passive=70", 0 },
	{ "tau=60 capacity=17.3 temp_idle=50 temp_full=95 trip_passive=75 "
	  "trip_critical=85 base_load=0.2", 0 },
	{ "tau=120 capacity=17.3 base_load=0.1", 0.5 },
};

/*
 * hold - pace mail to hold the host at utilization u for 25 tau; the mean
 * temperature and load1 over the last 10 tau, sampled off the beat
 */
static void
hold(const struct lab_host_params *p, double u, double *temp_r,
    double *load_r, double *peak_r, long *reboots_r)
{
	struct lab_host		*h;
	struct lab_host_state	 st;
	struct rec		 r;
	uint64_t		 id = 1;
	double			 rate, t_end, t_offer, t_probe, from;
	double			 sum_t = 0, sum_l = 0;
	long			 k = 0, n = 0;
	char			*err = NULL;

	if ((h = lab_host_new(p, 0, &err)) == NULL)
		fail_msg("%s", err);
	memset(&r, 0, sizeof(r));
	rate = p->capacity * (u - p->base_load) / (1 - p->base_load);
	t_end = 25 * p->tau;
	from = 15 * p->tau;
	t_offer = 0;
	t_probe = from;
	*peak_r = 0;
	while (MINIMUM(t_offer, t_probe) < t_end) {
		if (t_offer <= t_probe) {
			lab_host_advance(h, t_offer, rec_event, &r);
			lab_host_offer(h, t_offer, id++);
			t_offer = (double)++k / rate;
		} else {
			lab_host_advance(h, t_probe, rec_event, &r);
			lab_host_state(h, &st);
			sum_t += st.temperature;
			sum_l += st.load1;
			*peak_r = MAXIMUM(*peak_r, st.temperature);
			n++;
			t_probe += 0.173;
		}
	}
	lab_host_state(h, &st);
	*temp_r = sum_t / n;
	*load_r = sum_l / n;
	*reboots_r = st.reboots;
	lab_host_free(&h);
	rec_free(&r);
}

/*
 * test_safe_hold - at u_safe the mean temperature settles at the passive
 * trip (or below it, when a load limit is the tighter one, with load1 per
 * CPU at that limit); at 1.1 u_safe it settles above, by the model's
 * (temp_full - temp_idle) * 0.1 u_safe when temperature is the limit
 */
static void
test_safe_hold(void **state)
{
	const struct hold_row *row = *state;
	struct lab_host_params	 p;
	double			 u, temp, load, peak, over;
	long			 reboots;

	params_of(row->spec, &p);
	u = lab_host_safe_utilization(&p, row->load_per_cpu);
	assert_true(u > p.base_load && u < 1);
	hold(&p, u, &temp, &load, &peak, &reboots);
	assert_int_equal(reboots, 0);
	if (row->load_per_cpu == 0) {
		if (fabs(temp - p.trip_passive) > 0.05)
			fail_msg("\"%s\": at u_safe %.4f mean %.3f C, "
			    "want %.3f", row->spec, u, temp,
			    p.trip_passive);
		assert_true(peak < p.trip_passive + 1);
	} else {
		assert_true(temp < p.trip_passive);
		if (fabs(load / p.cpus - row->load_per_cpu) > 0.03)
			fail_msg("\"%s\": at u_safe %.4f load/cpu %.3f,"
			    " want %.3f", row->spec, u, load / p.cpus,
			    row->load_per_cpu);
	}
	hold(&p, 1.1 * u, &temp, &load, &peak, &reboots);
	assert_int_equal(reboots, 0);
	if (row->load_per_cpu == 0) {
		over = (p.temp_full - p.temp_idle) * 0.1 * u;
		if (fabs(temp - (p.trip_passive + over)) > 0.05)
			fail_msg("\"%s\": at 1.1 u_safe mean %.3f C, "
			    "want %.3f", row->spec, temp,
			    p.trip_passive + over);
	} else {
		assert_true(load / p.cpus > row->load_per_cpu + 0.03);
	}
}

/*
 * Jumping from event to event loses nothing
 */

struct run_result {
	struct lab_host_state	 st;
	struct rec		 r;
};

/*
 * jump_run - the same offers (20 every 0.7 s for 400 s: past capacity, so
 * hot enough to reboot), advanced in steps of tick seconds (0: only to
 * the offers)
 */
static void
jump_run(double tick, struct run_result *out)
{
	struct lab_host_params	 p;
	struct lab_host		*h;
	uint64_t		 id = 1;
	double			 t, t_next;
	int			 k, j;

	memset(out, 0, sizeof(*out));
	h = host_of("tau=20 reboot_time=30", &p);
	for (k = 0; (t = k * 0.7) < 400; k++) {
		if (tick > 0) {
			for (t_next = (k - 1) * 0.7 + tick; k > 0 &&
			    t_next < t; t_next += tick)
				lab_host_advance(h, t_next, rec_event, &out->r);
		}
		lab_host_advance(h, t, rec_event, &out->r);
		for (j = 0; j < 20; j++)
			lab_host_offer(h, t, id++);
	}
	lab_host_advance(h, 400, rec_event, &out->r);
	lab_host_state(h, &out->st);
	lab_host_free(&h);
}

static void
test_jump_equals_ticks(void **state)
{
	static const double	 ticks[] = { 0.01, 0.333, 1.0 };
	struct run_result	 a, b;
	double			 sa, sb;
	size_t			 i, j;

	jump_run(0, &a);
	assert_true(a.st.reboots >= 1);		/* the case covers a trip */
	assert_true(a.st.above_passive > 0);
	for (i = 0; i < nitems(ticks); i++) {
		jump_run(ticks[i], &b);
		assert_int_equal(a.r.delivered, b.r.delivered);
		assert_int_equal(a.r.dropped, b.r.dropped);
		assert_int_equal(a.st.reboots, b.st.reboots);
		sa = sb = 0;
		for (j = 0; j < (size_t)a.r.delivered; j++) {
			sa += a.r.t_done[j];
			sb += b.r.t_done[j];
		}
		assert_true(fabs(sa - sb) < 1e-6 * a.r.delivered);
		assert_true(fabs(a.st.temperature - b.st.temperature) < 1e-9);
		assert_true(fabs(a.st.above_passive - b.st.above_passive) <
		    1e-6);
		assert_true(fabs(a.st.load1 - b.st.load1) < 1e-9);
		assert_true(fabs(a.st.psi_io_avg10 - b.st.psi_io_avg10) <
		    1e-9);
		assert_true(fabs(a.st.utilization_avg - b.st.utilization_avg) <
		    1e-9);
		rec_free(&b.r);
	}
	rec_free(&a.r);
}

/* spec_name - a row's host for a test name */
static const char *
spec_name(const char *spec)
{
	return *spec != '\0' ? spec : "default host";
}

#define TESTS_MAX	128

/* add_test - one more test, a table row in its state */
static void
add_test(struct CMUnitTest *t, size_t *n, CMUnitTestFunction fn,
    const void *row, char *name)
{
	if (*n >= TESTS_MAX)
		fail_msg("more than %d tests", TESTS_MAX);
	memset(&t[*n], 0, sizeof(t[*n]));
	t[*n].name = name;
	t[*n].test_func = fn;
	t[*n].initial_state = (void *)row;
	(*n)++;
}

/* ROWS - a test per row of table, named by the format that follows */
#define ROWS(table, fn, ...)						\
	for (i = 0; i < nitems(table); i++)				\
		add_test(tests, &n, fn, &table[i], xasprintf(__VA_ARGS__))

int
main(void)
{
	static struct CMUnitTest tests[TESTS_MAX];
	size_t		 i, n = 0;
	int		 rc;

	ROWS(check_rows, test_params_check, "params: %s",
	    spec_name(check_rows[i].spec));
	ROWS(safe_rows, test_safe_formula, "safe formula: %s, load limit %g",
	    spec_name(safe_rows[i].spec), safe_rows[i].load_per_cpu);
	ROWS(flow_rows, test_throughput, "throughput: x%g on %s",
	    flow_rows[i].load, flow_rows[i].spec);
	add_test(tests, &n, test_latency, NULL, xstrdup("latency"));
	add_test(tests, &n, test_refused_when_full, NULL,
	    xstrdup("refused when full"));
	ROWS(tau_rows, test_thermal_tau, "thermal tau: %s, %ld in progress",
	    tau_rows[i].spec, tau_rows[i].k);
	ROWS(reboot_rows, test_reboot, "reboot: %s, %ld in progress",
	    spec_name(reboot_rows[i].spec), reboot_rows[i].k);
	ROWS(lag_rows, test_load_lag, "load lag: %s, %ld runnable",
	    lag_rows[i].spec, lag_rows[i].n);
	ROWS(psi_rows, test_psi, "psi: %s, %ld in progress",
	    psi_rows[i].spec, psi_rows[i].n);
	ROWS(hold_rows, test_safe_hold, "safe hold: %s, load limit %g",
	    spec_name(hold_rows[i].spec), hold_rows[i].load_per_cpu);
	add_test(tests, &n, test_jump_equals_ticks, NULL,
	    xstrdup("event jumps equal ticks"));
	rc = _cmocka_run_group_tests("lab_host", tests, n, NULL, NULL);
	for (i = 0; i < n; i++)
		free((char *)tests[i].name);
	return rc;
}
