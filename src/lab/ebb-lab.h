/*
 * ebb-lab.h - what the commands of ebb-lab share (ebb-lab.c): parsing
 * option values, keeping the engine's log quiet, printing
 */
#ifndef EBB_LAB_EBB_LAB_H
#define EBB_LAB_EBB_LAB_H

#include <stdio.h>

#include <jansson.h>

#include "ebb/util.h"

/* lab_usage - the synopsis of every command to fp */
void	 lab_usage(FILE *fp);

/* lab_usage_error - a bad command line: say why, the usage, exit 64 */
void	 lab_usage_error(const char *fmt, ...) EBB_PRINTF(1, 2) EBB_NORETURN;

/* lab_number - option name's value s as a finite double, or exit 64 */
double	 lab_number(const char *name, const char *s);

/* lab_integer - option name's value s as a whole number in lo..hi */
long long lab_integer(const char *name, const char *s, long long lo,
	    long long hi);

/*
 * lab_quiet_begin - unless verbose, send stderr (the engine's log) to
 * /dev/null until lab_quiet_end
 */
void	 lab_quiet_begin(int verbose);
void	 lab_quiet_end(void);

/* lab_print_json - o as one line of JSON on stdout; o is released */
void	 lab_print_json(json_t *o);

/* lab_pct - n as a percentage of total (0 when total is 0) */
double	 lab_pct(long n, long total);

/* the inbound commands (ebb-lab-inbound.c) */
int	 lab_cmd_inbound(int argc, char **argv);
int	 lab_cmd_inbound_grid(int argc, char **argv);

/* the senders of the inbound flood over real SMTP (ebb-lab-senders.c) */
int	 lab_cmd_senders(int argc, char **argv);

#endif
