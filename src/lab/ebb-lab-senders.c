/*
 * ebb-lab-senders.c - the remote senders of the inbound flood, for real
 *
 *	ebb-lab senders --connect ADDR:PORT [--messages N] [--senders N]
 *	    [--mix mixed|cloud] [--seed N] [--compress C] [--duration S]
 *	    [--timeout S] [--rcpt-domain D] [--xclient] [--events FILE]
 *
 * The senders of lab/senders.h (their backlog drawn as lab_senders_draw
 * draws it, their retry schedules and lifetimes, Exim's host retry record
 * and delay_after_cutoff) run on the wall clock, compressed C times as
 * lab/inbound.c compresses them, and speak real SMTP to ADDR:PORT: each
 * sender at most SENDER_CONNECTIONS sessions at once, one message per
 * session (EHLO, MAIL, RCPT, DATA, QUIT). A message carries a Received:
 * chain dated at its first-queued time on the compressed clock (now -
 * age / C), so a milter reading the chain sees its true age, compressed;
 * an X-Lab-Id and a Message-ID <ID@lab.test>; a short body.
 *
 * A 4xx reply, a connection refused, cut or timed out puts the message
 * back on its sender's schedule; a 5xx loses it; so does its sender's
 * lifetime running out, or an Exim queue run past the cutoff. With
 * --xclient each session first claims its sender's own address
 * (10.X.Y.1, one /24 per sender, as inbound.c's) with XCLIENT, so the
 * server and its milter tell the senders apart; the server must allow
 * it (Postfix: smtpd_authorized_xclient_hosts).
 *
 * The run ends when every message is accepted or lost, or after
 * --duration seconds; then no session starts, the ones open finish (each
 * bounded by --timeout) and what is still at a sender is pending. The
 * event log (--events) is one JSON object per line for bench/inbound.sh:
 * start, accepted, refused, failed, lost, end; a summary goes to stdout.
 *
 * One libevent loop, no threads; every reply line, session and count is
 * bounded.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "ebb/log.h"
#include "ebb/util.h"
#include "lab/inbound.h"
#include "lab/senders.h"
#include "ebb-lab.h"

#define SENDERS_MAX	500	/* x SENDER_CONNECTIONS sockets at most */
#define MESSAGES_MAX	100000
#define TICK		0.05	/* s between the senders' turns */
#define REPLY_LINE_MAX	1000	/* bytes of a reply line (RFC 5321: 512) */
#define REPLY_LINES_MAX	100	/* lines of a multi-line reply */

enum mstate { M_QUEUED, M_SESSION, M_ACCEPTED, M_LOST };

/* one message at its sender; times are seconds since the start */
struct dmsg {
	size_t		 sender;
	uint8_t		 state;		/* enum mstate */
	uint8_t		 offered;
	double		 queued;	/* first queued, compressed (< 0) */
	double		 deadline;	/* its sender gives up */
	double		 next;		/* due */
	long		 attempts;
};

struct dsender {
	enum sender_kind kind;
	const char	*domain;
	char		 addr[32];	/* what --xclient claims */
	size_t		*msgs;
	size_t		 n;
	int		 open;
	struct sender_exim_host exim;	/* the senders' seconds */
	double		 next_run;	/* Exim's next queue run */
};

enum phase {
	P_FREE, P_GREETING, P_EHLO, P_XCLIENT, P_EHLO2, P_MAIL, P_RCPT,
	P_DATA, P_DOT, P_QUIT
};

static const char *const phase_names[] = {
	"free", "connect", "ehlo", "xclient", "ehlo", "mail", "rcpt",
	"data", "dot", "quit"
};

struct drv;

/* one session slot: SENDER_CONNECTIONS per sender */
struct slot {
	struct drv	*d;
	uint8_t		 phase;		/* enum phase */
	size_t		 msg;
	struct bufferevent *bev;
	int		 lines;		/* of the reply so far */
};

struct drv {
	struct event_base *base;
	struct event	*tick, *sigterm, *sigint;
	struct sockaddr_storage ss;
	int		 sslen;
	double		 c;
	double		 duration, timeout;
	int		 xclient, stopping, finished;
	const char	*rcpt_domain;
	FILE		*events;
	double		 t0_mono, t0_wall;

	struct lab_sender *ls;
	struct lab_sender_msg *lm;
	struct dsender	*s;
	struct dmsg	*m;
	struct slot	*slots;
	size_t		 ns, nm, nslots;
	long		 resolved, sessions, connect_failed, cut, tempfailed;
	long		 rejected, accepted, lost, lost_cutoff, open;
};

static void	 slot_start(struct drv *, size_t, size_t);

/* now - seconds since the start */
static double
now(const struct drv *d)
{
	return ebb_now_mono() - d->t0_mono;
}

/* lab_id - message i's X-Lab-Id */
static void
lab_id(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "in-%zu", i + 1);
}

/*
 * event - one line of the event log: its name, the wall time, message i's
 * fields when i < nm, then fmt's members (", \"k\":v..." or "")
 */
static void EBB_PRINTF(4, 5)
event(struct drv *d, const char *name, size_t i, const char *fmt, ...)
{
	va_list	 ap;
	char	 id[32];

	if (d->events == NULL)
		return;
	fprintf(d->events, "{\"event\":\"%s\",\"wall\":%.3f", name,
	    d->t0_wall + now(d));
	if (i < d->nm) {
		lab_id(i, id, sizeof(id));
		fprintf(d->events, ",\"lab_id\":\"%s\",\"sender\":%zu,"
		    "\"kind\":\"%s\",\"domain\":\"%s\",\"first_queued\":%.3f,"
		    "\"deadline\":%.3f,\"attempts\":%ld", id, d->m[i].sender,
		    sender_kind_name(d->s[d->m[i].sender].kind),
		    d->s[d->m[i].sender].domain, d->t0_wall + d->m[i].queued,
		    d->t0_wall + d->m[i].deadline, d->m[i].attempts);
	}
	va_start(ap, fmt);
	vfprintf(d->events, fmt, ap);
	va_end(ap);
	fprintf(d->events, "}\n");
}

/* lose - message i is lost: its sender gave up (why) */
static void
lose(struct drv *d, size_t i, const char *why)
{
	d->m[i].state = M_LOST;
	d->resolved++;
	d->lost++;
	if (strcmp(why, "cutoff") == 0)
		d->lost_cutoff++;
	event(d, "lost", i, ",\"reason\":\"%s\"", why);
}

/* requeue - message i failed at t: its sender's next attempt */
static void
requeue(struct drv *d, size_t i, double t)
{
	struct dmsg	*m = &d->m[i];
	double		 age = (t - m->queued) * d->c;

	m->state = M_QUEUED;
	m->next = m->queued + sender_next_attempt(d->s[m->sender].kind,
	    age) / d->c;
	if (t >= m->deadline)
		lose(d, i, "lifetime");
}

/* host_failed - an Exim sender could not talk to the host at t */
static void
host_failed(struct drv *d, struct dsender *s, double t)
{
	if (s->kind == SENDER_EXIM)
		sender_exim_host_fail(&s->exim, t * d->c);
}

/* slot_close - end slot k's session; the message is dealt with already */
static void
slot_close(struct drv *d, size_t k)
{
	struct slot	*sl = &d->slots[k];

	if (sl->bev != NULL)
		bufferevent_free(sl->bev);
	sl->bev = NULL;
	sl->phase = P_FREE;
	d->s[d->m[sl->msg].sender].open--;
	d->open--;
}

/* slot_failed - slot k's session broke before an answer (why): retry */
static void
slot_failed(struct drv *d, size_t k, const char *why)
{
	struct slot	*sl = &d->slots[k];
	size_t		 i = sl->msg;
	double		 t = now(d);

	if (sl->phase == P_GREETING && strcmp(why, "connect") == 0)
		d->connect_failed++;
	else
		d->cut++;
	event(d, "failed", i, ",\"reason\":\"%s\",\"phase\":\"%s\"", why,
	    phase_names[sl->phase]);
	host_failed(d, &d->s[d->m[i].sender], t);
	slot_close(d, k);
	requeue(d, i, t);
}

/* send_line - a command line to the session of slot sl */
static void EBB_PRINTF(2, 3)
send_line(struct slot *sl, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(sl->bev);
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

/* rfc5322_date - wall time w as a Date: value, UTC */
static void
rfc5322_date(double w, char *buf, size_t len)
{
	time_t		 tt = (time_t)w;
	struct tm	 tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* send_message - the header and body of slot k's message, and the dot */
static void
send_message(struct drv *d, struct slot *sl)
{
	struct dmsg	*m = &d->m[sl->msg];
	struct dsender	*s = &d->s[m->sender];
	char		 id[32], date[64];
	int		 j;

	lab_id(sl->msg, id, sizeof(id));
	rfc5322_date(d->t0_wall + m->queued, date, sizeof(date));
	send_line(sl, "Received: from mta.%s (mta.%s [%s])", s->domain,
	    s->domain, s->addr);
	send_line(sl, "\tby mx.%s (%s) with ESMTP id %s", s->domain,
	    sender_kind_name(s->kind), id);
	send_line(sl, "\tfor <box%zu@%s>; %s", sl->msg, d->rcpt_domain,
	    date);
	send_line(sl, "Received: from client.%s ([192.0.2.1])", s->domain);
	send_line(sl, "\tby mta.%s with ESMTPSA; %s", s->domain, date);
	send_line(sl, "From: <user%zu@%s>", sl->msg % 97, s->domain);
	send_line(sl, "To: <box%zu@%s>", sl->msg, d->rcpt_domain);
	send_line(sl, "Date: %s", date);
	send_line(sl, "Subject: inbound flood %s", id);
	send_line(sl, "Message-ID: <%s@lab.test>", id);
	send_line(sl, "X-Lab-Id: %s", id);
	send_line(sl, "%s", "");
	for (j = 0; j < 8; j++)
		send_line(sl, "a line of the body of a message held by %s "
		    "since the outage", sender_kind_name(s->kind));
	send_line(sl, "%s", ".");
}

/* accepted - slot k's message is queued by the server (reply line r) */
static void
accepted(struct drv *d, size_t k, const char *r)
{
	struct slot	*sl = &d->slots[k];
	const char	*q;
	char		 qid[32] = "";
	size_t		 n;

	if ((q = strstr(r, "queued as ")) != NULL) {
		q += strlen("queued as ");
		n = strspn(q, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz");
		if (n < sizeof(qid)) {
			memcpy(qid, q, n);
			qid[n] = '\0';
		}
	}
	d->m[sl->msg].state = M_ACCEPTED;
	d->resolved++;
	d->accepted++;
	event(d, "accepted", sl->msg, ",\"queue_id\":\"%s\"", qid);
}

/* refused - slot k's message got reply code (4xx, 5xx) in its phase */
static void
refused(struct drv *d, size_t k, const char *code)
{
	struct slot	*sl = &d->slots[k];
	size_t		 i = sl->msg;
	double		 t = now(d);

	event(d, "refused", i, ",\"code\":\"%s\",\"phase\":\"%s\"", code,
	    phase_names[sl->phase]);
	if (strcmp(code, "421") == 0)
		host_failed(d, &d->s[d->m[i].sender], t);
	if (code[0] == '5') {
		d->rejected++;
		lose(d, i, "rejected");
	} else {
		d->tempfailed++;
		requeue(d, i, t);
	}
}

/*
 * reply - slot k got a whole reply (code, and its last line r): take the
 * session's next step. A 421 is a failure of the host to Exim; any other
 * answer clears Exim's record, as in inbound.c.
 */
static void
reply(struct drv *d, size_t k, const char *code, const char *r)
{
	struct slot	*sl = &d->slots[k];
	struct dmsg	*m = &d->m[sl->msg];
	struct dsender	*s = &d->s[m->sender];
	int		 ok;
	char		 want = sl->phase == P_DATA ? '3' : '2';

	ok = code[0] == want;
	if (sl->phase == P_QUIT) {
		slot_close(d, k);
		return;
	}
	if (!ok) {
		/* an answer other than 421: to Exim the host works */
		if (s->kind == SENDER_EXIM && strcmp(code, "421") != 0)
			sender_exim_host_ok(&s->exim);
		if (sl->phase >= P_MAIL)
			m->offered = 1;
		if (code[0] != '4' && code[0] != '5')
			code = "451";	/* nonsense: try again later */
		refused(d, k, code);
		send_line(sl, "QUIT");
		sl->phase = P_QUIT;
		return;
	}
	switch (sl->phase) {
	case P_GREETING:
		send_line(sl, "EHLO mta.%s", s->domain);
		sl->phase = P_EHLO;
		break;
	case P_EHLO:
		if (d->xclient) {
			send_line(sl, "XCLIENT ADDR=%s NAME=mta.%s",
			    s->addr, s->domain);
			sl->phase = P_XCLIENT;
			break;
		}
		/* FALLTHROUGH */
	case P_EHLO2:
		m->offered = 1;
		send_line(sl, "MAIL FROM:<user%zu@%s>", sl->msg % 97,
		    s->domain);
		sl->phase = P_MAIL;
		break;
	case P_XCLIENT:
		send_line(sl, "EHLO mta.%s", s->domain);
		sl->phase = P_EHLO2;
		break;
	case P_MAIL:
		send_line(sl, "RCPT TO:<box%zu@%s>", sl->msg,
		    d->rcpt_domain);
		sl->phase = P_RCPT;
		break;
	case P_RCPT:
		send_line(sl, "DATA");
		sl->phase = P_DATA;
		break;
	case P_DATA:
		send_message(d, sl);
		sl->phase = P_DOT;
		break;
	case P_DOT:
		if (s->kind == SENDER_EXIM)
			sender_exim_host_ok(&s->exim);
		accepted(d, k, r);
		send_line(sl, "QUIT");
		sl->phase = P_QUIT;
		break;
	default:
		log_panic("senders: a reply in phase %d", sl->phase);
	}
}

/* on_read - reply lines for slot k; a bad or long reply ends the session */
static void
on_read(struct bufferevent *bev, void *arg)
{
	struct slot	*sl = arg;
	struct drv	*d = sl->d;
	size_t		 k = (size_t)(sl - d->slots), n;
	char		*line, code[4];

	while (sl->phase != P_FREE &&
	    (line = evbuffer_readln(bufferevent_get_input(bev), &n,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		if (n < 3 || n > REPLY_LINE_MAX || ++sl->lines >
		    REPLY_LINES_MAX || strspn(line, "0123456789") < 3 ||
		    (line[3] != ' ' && line[3] != '-' && line[3] != '\0')) {
			free(line);
			slot_failed(d, k, "bad reply");
			return;
		}
		if (line[3] == '-') {
			free(line);
			continue;
		}
		memcpy(code, line, 3);
		code[3] = '\0';
		sl->lines = 0;
		reply(d, k, code, line);
		free(line);
	}
	if (sl->phase != P_FREE && evbuffer_get_length(
	    bufferevent_get_input(bev)) > REPLY_LINE_MAX)
		slot_failed(d, k, "bad reply");
}

/* on_event - slot k connected, or its connection ended or timed out */
static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct slot	*sl = arg;
	struct drv	*d = sl->d;
	size_t		 k = (size_t)(sl - d->slots);

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (sl->phase == P_QUIT) {	/* done: the server closed first */
		slot_close(d, k);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		slot_failed(d, k, "timeout");
	else if (sl->phase == P_GREETING && !(what & BEV_EVENT_EOF))
		slot_failed(d, k, "connect");
	else
		slot_failed(d, k, "closed");
}

/* slot_start - a session in slot k for message i */
static void
slot_start(struct drv *d, size_t k, size_t i)
{
	struct slot	*sl = &d->slots[k];
	struct timeval	 tv;

	sl->d = d;
	sl->msg = i;
	sl->lines = 0;
	sl->phase = P_GREETING;
	d->m[i].state = M_SESSION;
	d->m[i].attempts++;
	d->s[d->m[i].sender].open++;
	d->open++;
	d->sessions++;
	sl->bev = bufferevent_socket_new(d->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (sl->bev == NULL)
		log_fatal("bufferevent_socket_new failed");
	bufferevent_setcb(sl->bev, on_read, NULL, on_event, sl);
	tv.tv_sec = (time_t)d->timeout;
	tv.tv_usec = (suseconds_t)((d->timeout - (double)tv.tv_sec) * 1e6);
	bufferevent_set_timeouts(sl->bev, &tv, &tv);
	bufferevent_enable(sl->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(sl->bev, (struct sockaddr *)&d->ss,
	    d->sslen) == -1)
		slot_failed(d, k, "connect");
}

/* sender_act - sender j at t: give up, queue runs, start sessions */
static void
sender_act(struct drv *d, size_t j, double t)
{
	struct dsender	*s = &d->s[j];
	struct dmsg	*m, *best;
	size_t		 x, k, bi = 0;

	for (x = 0; x < s->n; x++)
		if (d->m[s->msgs[x]].state == M_QUEUED &&
		    t >= d->m[s->msgs[x]].deadline)
			lose(d, s->msgs[x], "lifetime");
	if (s->kind == SENDER_EXIM && t >= s->next_run) {
		while (s->next_run <= t)
			s->next_run += SENDER_EXIM_QUEUE_RUN / d->c;
		if (sender_exim_host_action(&s->exim, t * d->c, 1) ==
		    SENDER_EXIM_BOUNCE)
			for (x = 0; x < s->n; x++)
				if (d->m[s->msgs[x]].state == M_QUEUED)
					lose(d, s->msgs[x], "cutoff");
	}
	if (d->stopping || (s->kind == SENDER_EXIM && s->exim.failing &&
	    t * d->c < s->exim.next))
		return;
	for (k = j * SENDER_CONNECTIONS; k < (j + 1) * SENDER_CONNECTIONS;
	    k++) {
		if (d->slots[k].phase != P_FREE)
			continue;
		best = NULL;
		for (x = 0; x < s->n; x++) {
			m = &d->m[s->msgs[x]];
			if (m->state != M_QUEUED || m->next > t)
				continue;
			if (best == NULL || m->next < best->next) {
				best = m;
				bi = s->msgs[x];
			}
		}
		if (best == NULL)
			return;
		slot_start(d, k, bi);
	}
}

/* finish - log the end and leave the loop */
static void
finish(struct drv *d)
{
	long	 pending = 0, offered = 0;
	size_t	 i;

	if (d->finished)
		return;
	d->finished = 1;
	for (i = 0; i < d->nm; i++) {
		if (d->m[i].state == M_QUEUED || d->m[i].state == M_SESSION)
			pending++;
		if (d->m[i].offered)
			offered++;
	}
	event(d, "end", d->nm, ",\"messages\":%zu,\"offered\":%ld,"
	    "\"accepted\":%ld,\"lost\":%ld,\"lost_cutoff\":%ld,"
	    "\"pending\":%ld,\"sessions\":%ld,\"connect_failed\":%ld,"
	    "\"cut\":%ld,\"tempfailed\":%ld,\"rejected\":%ld,"
	    "\"duration\":%.3f", d->nm, offered, d->accepted, d->lost,
	    d->lost_cutoff, pending, d->sessions, d->connect_failed, d->cut,
	    d->tempfailed, d->rejected, now(d));
	printf("messages=%zu\noffered=%ld\naccepted=%ld\nlost=%ld\n"
	    "lost_cutoff=%ld\npending=%ld\nsessions=%ld\nconnect_failed=%ld\n"
	    "cut=%ld\ntempfailed=%ld\nrejected=%ld\nduration=%.1f\n", d->nm,
	    offered, d->accepted, d->lost, d->lost_cutoff, pending,
	    d->sessions, d->connect_failed, d->cut, d->tempfailed,
	    d->rejected, now(d));
	event_base_loopexit(d->base, NULL);
}

/* on_tick - the senders' turn; the end of the run */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct drv	*d = arg;
	double		 t = now(d);
	size_t		 j;

	(void)fd;
	(void)what;
	if (!d->stopping && (d->resolved == (long)d->nm || t >= d->duration))
		d->stopping = 1;
	for (j = 0; j < d->ns; j++)
		sender_act(d, j, t);
	if (d->stopping && d->open == 0)
		finish(d);
	if (d->events != NULL)
		fflush(d->events);
}

/* on_signal - TERM or INT: stop as at the end of --duration */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct drv	*d = arg;

	(void)sig;
	(void)what;
	d->stopping = 1;
}

/* make_senders - draw the backlog; every message due at the start */
static void
make_senders(struct drv *d, const struct lab_senders_params *p)
{
	struct dsender	*s;
	struct dmsg	*m;
	size_t		 i, j;

	lab_senders_draw(p, &d->ls, &d->lm);
	d->ns = (size_t)p->senders;
	d->nm = (size_t)p->messages;
	d->s = xcalloc(d->ns, sizeof(*d->s));
	d->m = xcalloc(d->nm, sizeof(*d->m));
	d->nslots = d->ns * SENDER_CONNECTIONS;
	d->slots = xcalloc(d->nslots, sizeof(*d->slots));
	for (j = 0; j < d->ns; j++) {
		s = &d->s[j];
		s->kind = d->ls[j].kind;
		s->domain = d->ls[j].domain;
		snprintf(s->addr, sizeof(s->addr), "10.%zu.%zu.1",
		    (j >> 8) & 255, j & 255);
		s->msgs = xreallocarray(NULL, (size_t)d->ls[j].messages + 1,
		    sizeof(*s->msgs));
		/* the outage: failing since it began, retry time come */
		s->exim.failing = 1;
		s->exim.first = -p->outage;
		s->exim.next = 0;
	}
	for (i = 0; i < d->nm; i++) {
		m = &d->m[i];
		m->sender = d->lm[i].sender;
		m->queued = -d->lm[i].age / d->c;
		m->deadline = d->lm[i].left / d->c;
		s = &d->s[m->sender];
		s->msgs[s->n++] = i;
	}
}

int
lab_cmd_senders(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "connect",	required_argument,	NULL, 'C' },
		{ "messages",	required_argument,	NULL, 'n' },
		{ "senders",	required_argument,	NULL, 'S' },
		{ "mix",	required_argument,	NULL, 'm' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "compress",	required_argument,	NULL, 'c' },
		{ "duration",	required_argument,	NULL, 'd' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "rcpt-domain", required_argument,	NULL, 'r' },
		{ "xclient",	no_argument,		NULL, 'x' },
		{ "events",	required_argument,	NULL, 'e' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct lab_senders_params p;
	struct timeval	 tv;
	struct drv	 d;
	const char	*connect = NULL, *events = NULL;
	char		*err = NULL;
	size_t		 j;
	int		 ch;

	memset(&d, 0, sizeof(d));
	lab_senders_params_default(&p);
	d.c = LAB_INBOUND_COMPRESS;
	d.duration = 600;
	d.timeout = 60;
	d.rcpt_domain = "dest.example";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C':
			connect = optarg;
			break;
		case 'n':
			p.messages = (long)lab_integer("messages", optarg, 1,
			    MESSAGES_MAX);
			break;
		case 'S':
			p.senders = (long)lab_integer("senders", optarg, 1,
			    SENDERS_MAX);
			break;
		case 'm':
			if (lab_senders_mix(optarg, p.mix) == -1)
				lab_usage_error("--mix: \"%s\" is not one of "
				    "%s", optarg, LAB_SENDERS_MIXES);
			break;
		case 's':
			p.seed = (uint64_t)lab_integer("seed", optarg, 0,
			    INT64_MAX);
			break;
		case 'c':
			d.c = lab_number("compress", optarg);
			if (!(d.c >= 1 && d.c <= 1000))
				lab_usage_error("--compress: %g is outside "
				    "1..1000", d.c);
			break;
		case 'd':
			d.duration = lab_number("duration", optarg);
			if (!(d.duration > 0 && d.duration <= 86400))
				lab_usage_error("--duration: %g is outside "
				    "0..86400", d.duration);
			break;
		case 't':
			d.timeout = lab_number("timeout", optarg);
			if (!(d.timeout >= 0.1 && d.timeout <= 3600))
				lab_usage_error("--timeout: %g is outside "
				    "0.1..3600", d.timeout);
			break;
		case 'r':
			if (strlen(optarg) > 64 || optarg[0] == '\0' ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz"
			    "0123456789.-") != strlen(optarg))
				lab_usage_error("--rcpt-domain: \"%s\" is not "
				    "a domain", optarg);
			d.rcpt_domain = optarg;
			break;
		case 'x':
			d.xclient = 1;
			break;
		case 'e':
			events = optarg;
			break;
		case 'h':
			lab_usage(stdout);
			return 0;
		default:
			lab_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc)
		lab_usage_error("senders: unexpected \"%s\"", argv[optind]);
	if (connect == NULL)
		lab_usage_error("senders: --connect ADDR:PORT is required");
	d.sslen = (int)sizeof(d.ss);
	if (evutil_parse_sockaddr_port(connect, (struct sockaddr *)&d.ss,
	    &d.sslen) == -1)
		lab_usage_error("--connect: \"%s\" is not a numeric "
		    "address:port", connect);
	if (lab_senders_params_check(&p, &err) == -1)
		lab_usage_error("senders: %s", err);
	if (events != NULL) {
		if (strcmp(events, "-") == 0)
			d.events = stdout;
		else if ((d.events = fopen(events, "a")) == NULL) {
			fprintf(stderr, "ebb-lab: %s: %s\n", events,
			    strerror(errno));
			return EXIT_FAILURE;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		log_fatal("event_base_new failed");
	make_senders(&d, &p);
	d.t0_mono = ebb_now_mono();
	d.t0_wall = ebb_now_real();
	event(&d, "start", d.nm, ",\"messages\":%zu,\"senders\":%zu,"
	    "\"compress\":%g,\"seed\":%llu,\"outage\":%g", d.nm, d.ns, d.c,
	    (unsigned long long)p.seed, p.outage);
	d.tick = event_new(d.base, -1, EV_PERSIST, on_tick, &d);
	d.sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	if (d.tick == NULL || d.sigterm == NULL || d.sigint == NULL)
		log_fatal("event_new failed");
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)(TICK * 1e6);
	event_add(d.tick, &tv);
	event_add(d.sigterm, NULL);
	event_add(d.sigint, NULL);
	event_active(d.tick, EV_TIMEOUT, 0);
	event_base_dispatch(d.base);

	event_free(d.tick);
	event_free(d.sigterm);
	event_free(d.sigint);
	event_base_free(d.base);
	if (d.events != NULL && d.events != stdout)
		fclose(d.events);
	for (j = 0; j < d.ns; j++)
		free(d.s[j].msgs);
	free(d.s);
	free(d.m);
	free(d.slots);
	free(d.ls);
	free(d.lm);
	return 0;
}
