/*
 * senders.h - the outage lab's remote senders: their retry schedules and
 * lifetimes, and a backlog spread over them
 *
 * The remote MTAs that come back at once when a mail host returns from an
 * outage, each with its backlog for it, as REFERENCE.md's "When remote
 * senders give up" lists them: Postfix, Exim (Debian's retry rule and
 * delay_after_cutoff), Exchange Online, qmail and Gmail. The schedules
 * and the assumptions where a sender publishes none are in senders.c.
 *
 * Everything here is pure and deterministic: the schedules are functions
 * of a message's age (seconds since its sender first queued it, on the
 * senders' own clock, uncompressed) and of its retry state; the backlog
 * is drawn from a seed. The lab's inbound simulation (lab/inbound.h)
 * compresses the senders' clock and runs the sessions.
 */
#ifndef EBB_LAB_SENDERS_H
#define EBB_LAB_SENDERS_H

#include <stddef.h>
#include <stdint.h>

enum sender_kind {
	SENDER_POSTFIX,
	SENDER_EXIM,
	SENDER_EXCHANGE,	/* Exchange Online / Microsoft 365 */
	SENDER_QMAIL,
	SENDER_GMAIL,
	SENDER_KIND_COUNT
};

#define SENDER_DAY		86400.0
#define SENDER_CONNECTIONS	2	/* sessions per sender at once */
#define SENDER_EXIM_QUEUE_RUN	1800.0	/* s, Debian's QUEUEINTERVAL */

/* sender_kind_name - "postfix", "exim", ...; sender_kind_lookup: -1 */
const char	*sender_kind_name(enum sender_kind);
int		 sender_kind_lookup(const char *name);

/*
 * sender_lifetime - seconds from first queued until the sender gives up
 * on a message: Postfix 5 d, Exim 4 d, Exchange Online 1 d, qmail 7 d,
 * Gmail 3 d
 */
double	 sender_lifetime(enum sender_kind);

/*
 * sender_next_attempt - the age of a message's next attempt after one
 * that failed at age (both seconds since first queued), always after
 * age. A function of the age alone: every schedule here is (senders.c
 * says how), so a sender that comes back late keeps its rhythm.
 */
double	 sender_next_attempt(enum sender_kind, double age);

/*
 * sender_exim_interval - Debian's Exim retry rule "F,2h,15m; G,16h,1h,1.5;
 * F,4d,6h" after a failure since seconds after the first one: 15 min
 * while since < 2 h; then the G rule, whose retries fall at 2 h x 1.5^k,
 * so the interval is max(1 h, since / 2) while since < 16 h; then 6 h
 */
double	 sender_exim_interval(double since);

/*
 * An Exim sender's retry record for the host (Exim keeps one per host for
 * connection failures and delays every message to a failing host until
 * the host's retry time). first: when it began to fail; next: the host's
 * retry time; the cutoff is first + 4 d.
 */
struct sender_exim_host {
	int	 failing;
	double	 first;
	double	 next;
};

/*
 * sender_exim_host_fail - a connection to the host failed at t: the
 * record starts at t when the host was not failing, and its next retry is
 * t + sender_exim_interval(t - first), but never after the cutoff (Exim
 * makes a last attempt at the cutoff)
 */
void	 sender_exim_host_fail(struct sender_exim_host *h, double t);

/* sender_exim_host_ok - a session was answered: the record is cleared */
void	 sender_exim_host_ok(struct sender_exim_host *h);

/* what an Exim sender does with a queued message at t */
enum sender_exim_action {
	SENDER_EXIM_TRY,	/* the host's retry time has come, or it is
				   not failing: try it */
	SENDER_EXIM_WAIT,	/* before the host's retry time: wait */
	SENDER_EXIM_BOUNCE	/* past the cutoff before the retry time,
				   with delay_after_cutoff: bounced without
				   trying */
};

/*
 * sender_exim_host_action - what a queue run at t does with a message to
 * a host in state h (delay_after_cutoff: Exim's option, true by default)
 */
enum sender_exim_action sender_exim_host_action(
	    const struct sender_exim_host *h, double t,
	    int delay_after_cutoff);

/* a backlog to draw; plain data. Times are the senders' seconds. */
struct lab_senders_params {
	long	 senders;	/* remote MTAs, 1..10000 */
	long	 messages;	/* their backlog together, 1..1000000 */
	double	 mix[SENDER_KIND_COUNT];	/* shares of the senders */
	double	 outage;	/* s the host was down: the oldest message */
	double	 near_share;	/* of the messages that can be near their
				   deadline (lifetime < outage), the share
				   whose remaining lifetime is uniform in
				   (0, near_window] */
	double	 near_window;	/* s */
	uint64_t seed;
};

/*
 * lab_senders_params_default - 40 senders, 2400 messages, the "mixed" mix,
 * a 4.5 d outage, near_share 0.3 and a near window of 2 h
 */
void	 lab_senders_params_default(struct lab_senders_params *p);

/* the sender mixes of the lab; lab_senders_mix: 0, or -1 for a bad name */
#define LAB_SENDERS_MIXES	"mixed, cloud"
int	 lab_senders_mix(const char *name, double mix_r[SENDER_KIND_COUNT]);

/*
 * lab_senders_params_check - 0 when p can be drawn, else -1 and an
 * allocated message in *err_r
 */
int	 lab_senders_params_check(const struct lab_senders_params *p,
	    char **err_r);

/* one sender; plain data */
struct lab_sender {
	enum sender_kind kind;
	char	 domain[32];	/* its senders' address domain */
	long	 messages;
};

/* one message of the backlog; plain data */
struct lab_sender_msg {
	size_t	 sender;	/* index into the senders */
	double	 age;		/* s since first queued, at the start */
	double	 left;		/* s of its sender's lifetime left then */
};

/*
 * lab_senders_draw - the senders and their backlog from p (which must
 * pass lab_senders_params_check): *senders_r (p->senders of them) and
 * *msgs_r (p->messages), allocated, the caller frees both. Sender j's
 * kind follows the mix in order (the first mix[0] share are Postfix...),
 * its share of the messages is drawn; a message's age is uniform over
 * [0, min(outage, lifetime)), or, for near_share of those whose
 * lifetime is below the outage, lifetime less a uniform (0, near_window].
 * Domains: gmail.com for Gmail, outlook.com for every other Exchange
 * Online sender (the rest are tenants' own domains), kindN.example else.
 */
void	 lab_senders_draw(const struct lab_senders_params *p,
	    struct lab_sender **senders_r, struct lab_sender_msg **msgs_r);

#endif
