/*
 * config.h - ebb.conf: the one configuration file of ebbd and ebbctl
 *
 * Every key is declared once in the typed table in src/lib/config_table.c
 * (section, name, type, default, range, one-line help). That table drives
 * the parser, "ebbd -n", "ebbctl config", the man page check and the sample
 * config check. The parsed values land in struct config, plain data that
 * every part of ebb reads directly.
 *
 * Units: durations are seconds; ratios and percentages are fractions (80% is
 * 0.8); sizes are bytes; rates are messages per second.
 */
#ifndef EBB_CONFIG_H
#define EBB_CONFIG_H

#include <stdio.h>

#include "ebb/util.h"

/*
 * The default configuration file and state directory follow configure's
 * --sysconfdir and --localstatedir (the Makefile passes SYSCONFDIR and
 * LOCALSTATEDIR); the documentation names them as /etc/ebb/ebb.conf and
 * /var/lib/ebb, and make install writes this build's paths into it.
 */
#ifndef EBB_CONFIG_FILE
#define EBB_CONFIG_FILE	SYSCONFDIR "/ebb/ebb.conf"
#endif
#define EBB_STATE_DIRECTORY	LOCALSTATEDIR "/lib/ebb"
#define CONFIG_SCAN_THREADS_MAX	8	/* [general] scan_threads */

enum config_mta		{ CONFIG_MTA_POSTFIX, CONFIG_MTA_SENDMAIL };
enum config_scan	{ CONFIG_SCAN_DIRECT, CONFIG_SCAN_POSTQUEUE };
enum config_drain_mode	{ CONFIG_DRAIN_HOLD, CONFIG_DRAIN_NUDGE };
enum config_milter_action { CONFIG_MILTER_TEMPFAIL, CONFIG_MILTER_HOLD };
enum config_spf		{ CONFIG_SPF_OFF, CONFIG_SPF_HEADER, CONFIG_SPF_ENFORCE };

struct config {
	char	*path;			/* file read, NULL when defaults */
	int	*lines;			/* per config_keys[] row: the line
					   that set it, 0: default; NULL */

	/* [general] */
	int	 mta;			/* enum config_mta */
	char	*state_directory;
	char	*user;
	long	 scan_threads;		/* 0: one per online CPU */

	/* [postfix] */
	char	*postfix_config_directory;
	int	 postfix_scan;		/* enum config_scan */

	/* [sendmail] */
	char	*sendmail_queue_directory;
	char	*sendmail_config_file;
	char	*sendmail_path;
	long	 sendmail_queue_lifetime;	/* seconds; 0: the .cf's */
	long	 sendmail_deliveries;	/* -qI children at once */

	/* [sensors] */
	char	*proc_root;
	char	*sys_root;
	long	 interval;		/* seconds */

	/* [limits] */
	double	 load_per_cpu;		/* 1-minute loadavg / CPUs */
	double	 psi_cpu;		/* fraction, avg10 "some" */
	double	 psi_io;
	double	 psi_memory;
	double	 mem_available_min;	/* fraction of MemTotal */
	double	 temperature;		/* degrees C; 0 = zone trip point */
	double	 temperature_margin;	/* degrees C below the trip point */
	double	 temperature_idle;	/* degrees C at rest; 0 = learn */
	long	 temperature_horizon;	/* seconds the trend looks ahead */
	long long queue_disk_free_min;	/* bytes */
	long	 mta_active_max;	/* messages leaving (mta_depth) */
	double	 critical;		/* pressure at which all new mail waits */

	/* [drain] */
	int	 drain_mode;		/* enum config_drain_mode */
	double	 max_rate;		/* messages/s */
	double	 min_rate;
	long	 window;		/* released, not yet delivered */
	double	 target_low;		/* pressure band the governor aims at */
	double	 target_high;
	double	 increase;		/* messages/s added per calm tick */
	double	 decrease;		/* rate factor per loaded tick */
	long	 stall_timeout;		/* seconds: ebbctl drain gives up */
	long	 rescan_interval;	/* seconds: ebbd's cross-check scan */

	/* [milter] */
	int	 milter_enable;		/* ebbd hosts the milter */
	char	*milter_socket;
	char	*milter_socket_group;	/* "": the MTA's (config_milter_group) */
	int	 milter_action;		/* enum config_milter_action */
	long	 remote_lifetime;	/* seconds */
	char	*domain_lifetimes;	/* "domain=duration ..." overrides */
	long	 urgent;
	long	 trickle;
	int	 spf;			/* enum config_spf */
	double	 client_rate;		/* messages/s per address; 0 = off */
	long	 client_burst;
	double	 net_rate;		/* per /24 (IPv4) or /64 (IPv6) */
	long	 net_burst;

	/* [control] */
	char	*control_socket;
	char	*control_group;		/* "" = root only */
	long	 control_max_connections;
	long	 control_idle_timeout;	/* seconds */

	/* [http] */
	char	*http_listen;		/* "" = off */
	char	*http_certificate;
	char	*http_key;
	char	*http_allow;
	long	 http_max_connections;
	long	 http_idle_timeout;	/* seconds */
	char	*http_title;		/* the page's banner; "": host name */
};

/* config_defaults - a config holding every key's default; never NULL */
struct config	*config_defaults(void);

/*
 * config_load - read and validate a config file.
 *
 * path NULL means the default file, which may be missing (defaults are then
 * used). An explicit path that cannot be read is an error. On error returns
 * -1 and sets *err_r to an allocated message "FILE:LINE: KEY: why" (caller
 * frees); on success returns 0 and sets *cfg_r (free with config_free).
 */
int		 config_load(const char *path, struct config **cfg_r,
		    char **err_r);

/*
 * config_key_error - an error about key name of section as ebb.conf
 * reports it: "FILE:LINE: name: why" when the file set the key, else
 * "FILE: [section] name = VALUE (the default): why"; FILE is "(defaults)"
 * when no file was read. Returns allocated text.
 */
char		*config_key_error(const struct config *, const char *section,
		    const char *name, const char *fmt, ...) EBB_PRINTF(4, 5);

/* config_free - free *cfgp and set it to NULL; NULL is fine */
void		 config_free(struct config **cfgp);

/*
 * config_print - write every key and its value as ebb.conf text (sections and
 * "key = value" lines, so the output is itself a valid config). flags:
 * CONFIG_PRINT_HELP puts the one-line help above each key as a comment;
 * CONFIG_PRINT_CHANGED leaves out the keys at their default (and sections
 * left empty), like "postconf -n".
 */
#define CONFIG_PRINT_HELP	0x01
#define CONFIG_PRINT_CHANGED	0x02
void		 config_print(FILE *, const struct config *, int flags);

/*
 * config_domain_lifetime - how long a sender in domain is assumed to retry:
 * the domain_lifetimes entry for domain or its closest parent domain
 * ("mx.gmail.com" takes gmail.com's), else remote_lifetime. Seconds.
 */
long		 config_domain_lifetime(const struct config *,
		    const char *domain);

#endif
