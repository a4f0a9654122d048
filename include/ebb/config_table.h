/*
 * config_table.h - the table of ebb.conf keys, and the typed value parsers
 *
 * Internal to the configuration: src/lib/config.c (the parser and printer),
 * ebbctl config, and the tests that hold the table, the man page ebb.conf(5)
 * and contrib/ebb.conf.sample to each other. Everyone else reads struct
 * config from ebb/config.h.
 */
#ifndef EBB_CONFIG_TABLE_H
#define EBB_CONFIG_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "ebb/config.h"

/*
 * A line of ebb.conf holds at most this much; inih's own buffer (200 bytes in
 * Debian's build) bounds a line further once its leading white space and
 * trailing comment are gone.
 */
#define CONFIG_LINE_MAX		4096
#define CONFIG_LINES_MAX	10000	/* a longer file is not an ebb.conf */

enum config_type {
	CONFIG_BOOL,		/* int: yes/no true/false on/off 1/0 */
	CONFIG_INTEGER,		/* long */
	CONFIG_SIZE,		/* long long bytes: 256m, 1g (1024-based) */
	CONFIG_DURATION,	/* long seconds: 5d, 4h12m, 300 */
	CONFIG_RATIO,		/* double fraction: 0.8 or 80% */
	CONFIG_REAL,		/* double: 37.5 */
	CONFIG_ENUM,		/* int: index into values[] */
	CONFIG_PATH,		/* char *: absolute path */
	CONFIG_STRING		/* char *: checked by check() if set */
};

#define CONFIG_KEY_EMPTY_OK	0x01	/* path/string: "" is allowed (unset) */

struct config_key {
	const char	*section;	/* "limits", without brackets */
	const char	*name;		/* "load_per_cpu" */
	enum config_type type;
	size_t		 offset;	/* of the value in struct config */
	const char	*def;		/* default, written as in ebb.conf */
	double		 min;		/* numeric types: the range, in */
	double		 max;		/* seconds, bytes or fractions */
	const char *const *values;	/* enum: names, NULL-terminated */
	/* string/path: 0, or -1 and an allocated reason (not the value) */
	int		(*check)(const char *, char **why_r);
	int		 flags;		/* CONFIG_KEY_* */
	const char	*help;		/* one line, no trailing period */
};

/* the table, grouped by section in config_sections order */
extern const struct config_key	 config_keys[];
extern const size_t		 config_nkeys;
/* section names in file order, NULL-terminated */
extern const char *const	 config_sections[];

/* config_type_name - "duration", "size", ... as the man page calls them */
const char	*config_type_name(enum config_type);

/* config_key_find - the key name in section, or NULL */
const struct config_key *config_key_find(const char *section,
		    const char *name);

/*
 * config_key_set - parse text as key's value, check its range, and store it
 * in cfg (replacing and freeing an old string). Returns 0, or -1 and sets
 * *why_r to an allocated reason such as "\"soon\" is not a duration" (the
 * caller adds file, line and key).
 */
int		 config_key_set(struct config *, const struct config_key *,
		    const char *text, char **why_r);

/*
 * config_key_format - key's value in cfg as ebb.conf text, allocated; what
 * config_key_set() reads back to the same value. A ratio is written as a
 * percentage when the key's default is one ("80%"), otherwise as a fraction.
 */
char		*config_key_format(const struct config *,
		    const struct config_key *);

/*
 * config_load_file - config_load() with the choice spelled out: a missing
 * file is an error when must_exist is set, otherwise it means defaults.
 */
int		 config_load_file(const char *path, int must_exist,
		    struct config **cfg_r, char **err_r);

/*
 * config_load_stream - read and check a config from fp (left open), named
 * name in messages and in cfg->path; as config_load() otherwise. For a fuzz
 * target, fmemopen() gives the stream.
 */
int		 config_load_stream(FILE *, const char *name,
		    struct config **cfg_r, char **err_r);

/*
 * The value parsers behind config_key_set(), one per type; no range checks.
 * Each returns 0 and sets *val_r, or -1 with errno EINVAL (malformed) or
 * ERANGE (does not fit); *val_r is untouched on error.
 */
int		 config_parse_bool(const char *, int *val_r);
int		 config_parse_integer(const char *, long *val_r);
int		 config_parse_size(const char *, long long *val_r);
int		 config_parse_ratio(const char *, double *val_r);
int		 config_parse_real(const char *, double *val_r);

/*
 * The checks of string keys, in config_table.c; each returns 0, or -1 and
 * an allocated reason.
 */
int		 config_check_user(const char *, char **why_r);
int		 config_check_milter_socket(const char *, char **why_r);
int		 config_check_listen(const char *, char **why_r);
int		 config_check_allow(const char *, char **why_r);
int		 config_check_title(const char *, char **why_r);
int		 config_check_domain_lifetimes(const char *, char **why_r);

/*
 * config_milter_socket_path - the path of a unix: or local: [milter]
 * socket (the part after the colon), or NULL for an inet one
 */
const char	*config_milter_socket_path(const char *);

/*
 * config_milter_group - the group of a unix: milter socket: [milter]
 * socket_group, or when empty the MTA's, the group its smtpd connects
 * with: "postfix" (Postfix's default mail_owner) for Postfix, "root"
 * for Sendmail (its daemon runs as root)
 */
const char	*config_milter_group(const struct config *);

/*
 * The most bytes of a unix socket path libmilter takes: it needs the path
 * and its NUL to fit sun_path (108 bytes on Linux) with a byte to spare.
 */
#define CONFIG_MILTER_PATH_MAX	106

/* a [milter] socket as libmilter reads it; plain data */
struct config_milter_socket {
	int		 family;	/* AF_UNIX, AF_INET or AF_INET6 */
	const char	*path;		/* AF_UNIX: in the text parsed */
	unsigned	 port;		/* AF_INET, AF_INET6 */
	char		 host[256];	/* "" for any address */
	int		 numeric;	/* host is an address, not a name */
};

/*
 * config_milter_socket_parse - split a [milter] socket, unix:/path,
 * local:/path, inet:port[@host] or inet6:port[@host] (host a name, an
 * address, or an address in brackets), and check it the way libmilter
 * will: a path of at most CONFIG_MILTER_PATH_MAX bytes, a numeric host
 * that is an address of the family (so "127.0." is refused here, not
 * by a bind that fails later), a host name of valid characters. Pure:
 * names are not resolved. 0, or -1 and *why_r (allocated).
 */
int		 config_milter_socket_parse(const char *,
		    struct config_milter_socket *r, char **why_r);

#endif
