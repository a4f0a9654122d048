/*
 * milter.h - ebb's milter: admission at SMTP time, hosted by a program
 *
 * The libmilter glue around admit.c: it listens on [milter] socket, asks
 * admit_decide() at MAIL FROM and at the end of headers, and answers the
 * MTA (continue, accept, 451, 550, or accept into hold). The host (ebbd's
 * unprivileged child, or tests/milter/ebb-milter-test) owns the sensors
 * and the governor and hands the milter the current budget through
 * struct milter_env; the milter hands back the messages it put on hold so
 * the host records them in the ledger.
 *
 * Threads and signals. libmilter runs its own threads: callbacks run on
 * its workers, and smfi_main() runs on a thread milter_start() creates.
 * libmilter takes SIGHUP, SIGTERM and SIGINT with sigwait() and stops on
 * them, so the host must block those three in every thread, the calling
 * one included, before it creates any thread (milter_start refuses to run
 * otherwise), and must not handle them itself: it learns of a stop through
 * env->stopped.
 */
#ifndef EBB_MILTER_H
#define EBB_MILTER_H

#include <time.h>

#include "ebb/admit.h"

struct budget;
struct config;
struct proof_key;
struct SPF_server_struct;

/* what the host gives the milter; the functions run on milter threads */
struct milter_env {
	/*
	 * budget - fill *budget_r with the governor's latest budget. Called
	 * once or twice per message from any worker thread: must be
	 * thread-safe and quick (copy a struct under a mutex).
	 */
	void	(*budget)(void *arg, struct budget *budget_r);
	/*
	 * hold - the message queue_id (checked by ebb_queue_id_valid) was
	 * accepted into the MTA's hold queue; its sender is estimated to
	 * give up at deadline. May be NULL. From any worker thread.
	 */
	void	(*hold)(void *arg, const char *queue_id, time_t deadline);
	/*
	 * stopped - smfi_main() returned: a signal, milter_stop() or a
	 * fatal libmilter error. May be NULL. From the milter's thread.
	 */
	void	(*stopped)(void *arg);
	void	*arg;
	/*
	 * spf - an SPF server the host made, such as the test host's over an
	 * offline DNS zone; it stays the host's and must outlive the milter.
	 * NULL (ebbd): the milter opens its own when [milter] spf is on.
	 */
	struct SPF_server_struct *spf;
	/*
	 * key - the key of ebb's proof of a hold (proof.h): every message
	 * the milter holds carries the header, or is tempfailed rather
	 * than held without it. NULL: held mail carries no proof (a test
	 * host); the drain will not take it for ebb's.
	 */
	const struct proof_key *key;
};

/* decision latency histogram: upper bounds in microseconds, then "more" */
#define MILTER_LATENCY_BOUNDS	{ 10, 25, 50, 100, 250, 1000, 10000 }
#define MILTER_LATENCY_BUCKETS	8

/* counters since milter_start; plain data */
struct milter_counters {
	unsigned long long connections;
	unsigned long long messages;		/* MAIL FROM seen */
	unsigned long long accepted;		/* including held */
	unsigned long long held;
	unsigned long long tempfailed;
	unsigned long long rejected;
	unsigned long long rate_limited;	/* rate_ip + rate_net */
	unsigned long long errors;		/* internal: tempfailed */
	unsigned long long reason[ADMIT_R_COUNT];
	unsigned long long spf[ADMIT_SPF_COUNT];
	unsigned long long latency[MILTER_LATENCY_BUCKETS];
	unsigned long long latency_sum_us;	/* of every decision timed */
};

/*
 * milter_start - open [milter] socket and run the milter on a thread of
 * its own. cfg and env must outlive milter_stop(). Loads the per-client
 * state from the state directory (a corrupt file is one log line and an
 * empty table). Returns 0, or -1 and an allocated message in *err_r (the
 * socket cannot be bound, the signals are not blocked, already running).
 */
int	milter_start(const struct config *cfg, const struct milter_env *env,
	    char **err_r);

/*
 * milter_stop_begin - ask libmilter to stop, without waiting: the host can
 * finish its own work meanwhile, then call milter_stop. Safe to call when
 * not running.
 */
void	milter_stop_begin(void);

/*
 * milter_stop - stop the milter, wait for its thread, save the per-client
 * state, free everything. libmilter's listener may take up to 5 s to
 * notice a stop: after MILTER_STOP_WAIT seconds the state is saved and
 * nothing is freed (worker threads may still use it, and the config and
 * env given to milter_start), and it returns 1: the host must then keep
 * those and exit next. Returns 0 when all is stopped and freed, also when
 * it was not running or a signal had stopped it.
 */
#define MILTER_STOP_WAIT	1	/* seconds */
int	milter_stop(void);

/* milter_flush - save the per-client state if the last save is 60 s old */
void	milter_flush(void);

/* milter_counters - a copy of the counters (zero before a start) */
void	milter_counters(struct milter_counters *counters_r);

#endif
