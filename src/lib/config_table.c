/*
 * config_table.c - every ebb.conf key, declared once
 *
 * One row per key: section, name, type, where the value lives in struct
 * config, the default as ebb.conf text, the range, and one line of help. The
 * parser, "ebbd -n", "ebbctl config" and the tests that compare this table
 * with ebb.conf(5) and contrib/ebb.conf.sample all walk this table; a key
 * added here is a key added everywhere (and the tests say where the docs
 * still lack it). The checks of the free-form string keys live here too.
 */
#include "config.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/deadline.h"
#include "ebb/duration.h"
#include "ebb/http_allow.h"
#include "ebb/util.h"

/*
 * FIELD - offset of f in struct config, which must have C type t: a row whose
 * type does not match its field does not compile (a negative bit-field).
 */
#define FIELD(f, t)	(offsetof(struct config, f) + 0 * sizeof(struct { \
	int type_matches :						\
	    _Generic(((struct config *)0)->f, t: 1, default: -1);	\
	}))

#define BOOL(f)		CONFIG_BOOL, FIELD(f, int)
#define INTEGER(f)	CONFIG_INTEGER, FIELD(f, long)
#define SIZE(f)		CONFIG_SIZE, FIELD(f, long long)
#define DURATION(f)	CONFIG_DURATION, FIELD(f, long)
#define RATIO(f)	CONFIG_RATIO, FIELD(f, double)
#define REAL(f)		CONFIG_REAL, FIELD(f, double)
#define ENUM(f)		CONFIG_ENUM, FIELD(f, int)
#define PATH(f)		CONFIG_PATH, FIELD(f, char *)
#define STRING(f)	CONFIG_STRING, FIELD(f, char *)

#define MINUTE	60.0
#define HOUR	3600.0
#define DAY	86400.0
#define MEGA	(1024.0 * 1024.0)
#define TERA	(MEGA * MEGA)

/* enum names, in the order of the enums in config.h */
static const char *const mta_values[] = { "postfix", "sendmail", NULL };
static const char *const scan_values[] = { "direct", "postqueue", NULL };
static const char *const drain_mode_values[] = { "hold", "nudge", NULL };
static const char *const action_values[] = { "tempfail", "hold", NULL };
static const char *const spf_values[] = { "off", "header", "enforce", NULL };

const char *const config_sections[] = {
	"general", "postfix", "sendmail", "sensors", "limits", "drain",
	"milter", "control", "http", NULL
};

const struct config_key config_keys[] = {
	{ "general", "mta", ENUM(mta), "postfix", 0, 0, mta_values, NULL, 0,
	  "the MTA whose queue ebb paces" },
	{ "general", "state_directory", PATH(state_directory),
	  EBB_STATE_DIRECTORY, 0, 0, NULL, NULL, 0,
	  "where ebb keeps its ledger of parked mail, its lock and history" },
	{ "general", "user", STRING(user), "ebb", 0, 0, NULL,
	  config_check_user, 0,
	  "unprivileged user of ebbd's milter, control and HTTP processes" },
	{ "general", "scan_threads", INTEGER(scan_threads), "0", 0,
	  CONFIG_SCAN_THREADS_MAX, NULL, NULL, 0,
	  "threads reading the queue in a scan; 0: one per CPU, at most 8" },

	{ "postfix", "config_directory", PATH(postfix_config_directory),
	  "/etc/postfix", 0, 0, NULL, NULL, 0,
	  "the Postfix instance's configuration directory (main.cf)" },
	{ "postfix", "scan", ENUM(postfix_scan), "direct", 0, 0, scan_values,
	  NULL, 0,
	  "how the queue is read: direct (queue files) or postqueue (-j)" },

	{ "sendmail", "config_file", PATH(sendmail_config_file),
	  "/etc/mail/sendmail.cf", 0, 0, NULL, NULL, 0,
	  "sendmail.cf: queue directories, Timeout.queuereturn, precedences" },
	{ "sendmail", "queue_directory", PATH(sendmail_queue_directory),
	  "", 0, 0, NULL, NULL, CONFIG_KEY_EMPTY_OK,
	  "Sendmail's queue directory; empty: QueueDirectory of config_file" },
	{ "sendmail", "queue_lifetime", DURATION(sendmail_queue_lifetime),
	  "0s", 0, 3650 * DAY, NULL, NULL, 0,
	  "when queued mail bounces; 0: Timeout.queuereturn of config_file" },
	{ "sendmail", "sendmail_path", PATH(sendmail_path),
	  "/usr/sbin/sendmail", 0, 0, NULL, NULL, 0,
	  "the sendmail binary that quarantines, releases and delivers mail" },
	{ "sendmail", "deliveries", INTEGER(sendmail_deliveries), "4", 1, 64,
	  NULL, NULL, 0,
	  "most sendmail -qI deliveries ebb runs at once" },

	{ "sensors", "proc_root", PATH(proc_root), "/", 0, 0, NULL, NULL, 0,
	  "directory holding the proc tree to read (a fake one in tests)" },
	{ "sensors", "sys_root", PATH(sys_root), "/", 0, 0, NULL, NULL, 0,
	  "directory holding the sys tree to read (a fake one in tests)" },
	{ "sensors", "interval", DURATION(interval), "1s", 1, HOUR, NULL, NULL,
	  0, "how often the sensors are sampled" },

	{ "limits", "load_per_cpu", REAL(load_per_cpu), "2.0", 0.1, 100, NULL,
	  NULL, 0, "1-minute load average per CPU that counts as full load" },
	{ "limits", "psi_cpu", RATIO(psi_cpu), "80%", 0.01, 1, NULL, NULL, 0,
	  "CPU pressure (PSI avg10 some) that counts as full load" },
	{ "limits", "psi_io", RATIO(psi_io), "60%", 0.01, 1, NULL, NULL, 0,
	  "I/O pressure (PSI avg10 some) that counts as full load" },
	{ "limits", "psi_memory", RATIO(psi_memory), "40%", 0.01, 1, NULL,
	  NULL, 0,
	  "memory pressure (PSI avg10 some) that counts as full load" },
	{ "limits", "mem_available_min", RATIO(mem_available_min), "10%", 0.01,
	  0.9, NULL, NULL, 0,
	  "MemAvailable, as a share of MemTotal, that counts as full load" },
	{ "limits", "temperature", REAL(temperature), "0.0", 0, 150, NULL, NULL,
	  0, "degrees C that count as full load; 0: the zone's trip point" },
	{ "limits", "temperature_margin", REAL(temperature_margin), "5.0", 0,
	  50, NULL, NULL, 0,
	  "degrees C below the trip point when temperature is 0" },
	{ "limits", "temperature_idle", REAL(temperature_idle), "0.0", 0, 150,
	  NULL, NULL, 0,
	  "degrees C of the host at rest; 0: the coolest reading seen" },
	{ "limits", "temperature_horizon", DURATION(temperature_horizon),
	  "10s", 0, HOUR, NULL, NULL, 0,
	  "how far ahead the temperature's trend is projected; 0: not" },
	{ "limits", "queue_disk_free_min", SIZE(queue_disk_free_min), "256m",
	  MEGA, 64 * TERA, NULL, NULL, 0,
	  "free space on the queue file system that counts as full" },
	{ "limits", "mta_active_max", INTEGER(mta_active_max), "20000", 1, 1e8,
	  NULL, NULL, 0, "messages the MTA has on their way out that count as full" },
	{ "limits", "critical", REAL(critical), "1.5", 1, 10, NULL, NULL, 0,
	  "pressure at which the milter refuses all but urgent mail (tempfail)" },

	{ "drain", "mode", ENUM(drain_mode), "hold", 0, 0, drain_mode_values,
	  NULL, 0,
	  "hold (park, release by deadline) or nudge (not yet built)" },
	{ "drain", "max_rate", REAL(max_rate), "100.0", 0.1, 1e5, NULL, NULL,
	  0, "most messages released per second" },
	{ "drain", "min_rate", REAL(min_rate), "1.0", 0, 1e5, NULL, NULL, 0,
	  "fewest messages released per second while no limit is reached" },
	{ "drain", "window", INTEGER(window), "500", 1, 1e7, NULL, NULL, 0,
	  "most released messages not yet delivered" },
	{ "drain", "target_low", RATIO(target_low), "0.6", 0.01, 0.99, NULL,
	  NULL, 0, "pressure at which the slow start ends" },
	{ "drain", "target_high", RATIO(target_high), "0.95", 0.01, 1, NULL,
	  NULL, 0, "pressure the governor holds the release rate at" },
	{ "drain", "increase", REAL(increase), "5.0", 0.01, 1e5, NULL, NULL, 0,
	  "most messages per second added to the rate per sample" },
	{ "drain", "stall_timeout", DURATION(stall_timeout), "5m", 10, DAY,
	  NULL, NULL, 0,
	  "released mail not leaving this long ends ebbctl drain (exit 75)" },
	{ "drain", "decrease", RATIO(decrease), "0.5", 0.01, 0.99, NULL, NULL,
	  0, "least rate factor per sample; share resumed after a stop" },
	{ "drain", "rescan_interval", DURATION(rescan_interval), "5m", 1, DAY,
	  NULL, NULL, 0,
	  "how often ebbd rescans the whole queue to check its live index" },

	{ "milter", "enable", BOOL(milter_enable), "no", 0, 0, NULL, NULL, 0,
	  "run the milter in ebbd (the MTA must also be told of it)" },
	{ "milter", "socket", STRING(milter_socket),
	  "inet:8891@127.0.0.1", 0, 0, NULL, config_check_milter_socket, 0,
	  "where the milter listens: unix:/path or inet:port@host" },
	{ "milter", "socket_group", STRING(milter_socket_group), "", 0, 0,
	  NULL, config_check_user, CONFIG_KEY_EMPTY_OK,
	  "group of a unix: socket, the MTA's; empty: postfix, or root" },
	{ "milter", "action", ENUM(milter_action), "hold", 0, 0,
	  action_values, NULL, 0,
	  "mail under delivery pressure: refuse what can wait, or hold all" },
	{ "milter", "remote_lifetime", DURATION(remote_lifetime), "5d", HOUR,
	  30 * DAY, NULL, NULL, 0,
	  "how long a remote sender is assumed to keep retrying" },
	{ "milter", "domain_lifetimes", STRING(domain_lifetimes),
	  "outlook.com=1d hotmail.com=1d live.com=1d gmail.com=3d "
	  "googlemail.com=3d", 0, 0, NULL, config_check_domain_lifetimes,
	  CONFIG_KEY_EMPTY_OK,
	  "remote_lifetime per sender domain, as domain=duration pairs" },
	{ "milter", "urgent", DURATION(urgent), "12h", MINUTE, 30 * DAY, NULL,
	  NULL, 0, "mail this close to its sender's deadline gets in" },
	{ "milter", "trickle", DURATION(trickle), "1h", MINUTE, DAY, NULL, NULL,
	  0, "each client gets a message through at least this often" },
	{ "milter", "spf", ENUM(spf), "off", 0, 0, spf_values, NULL, 0,
	  "SPF check: off, header (Received-SPF) or enforce (reject fail)" },
	{ "milter", "client_rate", REAL(client_rate), "0.0", 0, 1e4, NULL,
	  NULL, 0, "messages per second one client address may send; 0: any" },
	{ "milter", "client_burst", INTEGER(client_burst), "20", 1, 1e6, NULL,
	  NULL, 0, "messages one client address may send at once" },
	{ "milter", "net_rate", REAL(net_rate), "0.0", 0, 1e4, NULL, NULL, 0,
	  "messages per second one /24 (IPv4) or /64 (IPv6) may send; 0: any" },
	{ "milter", "net_burst", INTEGER(net_burst), "50", 1, 1e6, NULL, NULL,
	  0, "messages one /24 (IPv4) or /64 (IPv6) may send at once" },

	/* /run, whatever the prefix: systemd's RuntimeDirectory=ebb makes it */
	{ "control", "socket", PATH(control_socket), "/run/ebb/ebbd.sock", 0,
	  0, NULL, NULL, 0, "ebbd's control socket, for ebbctl" },
	{ "control", "group", STRING(control_group), "", 0, 0, NULL,
	  config_check_user, CONFIG_KEY_EMPTY_OK,
	  "group that may use the control socket; empty: root only" },
	{ "control", "max_connections", INTEGER(control_max_connections),
	  "64", 1, 4096, NULL, NULL, 0,
	  "most ebbctl connections at once; more wait their turn" },
	{ "control", "idle_timeout", DURATION(control_idle_timeout), "30s", 1,
	  HOUR, NULL, NULL, 0,
	  "a control connection idle this long is closed" },

	{ "http", "listen", STRING(http_listen), "", 0, 0, NULL,
	  config_check_listen, CONFIG_KEY_EMPTY_OK,
	  "host:port of the HTTP status endpoint; empty: off" },
	{ "http", "certificate", PATH(http_certificate), "", 0, 0, NULL, NULL,
	  CONFIG_KEY_EMPTY_OK,
	  "TLS certificate chain (PEM); empty: plain HTTP" },
	{ "http", "key", PATH(http_key), "", 0, 0, NULL, NULL,
	  CONFIG_KEY_EMPTY_OK, "TLS private key (PEM) of the certificate" },
	{ "http", "allow", STRING(http_allow), "127.0.0.0/8 ::1", 0, 0, NULL,
	  config_check_allow, 0,
	  "addresses and networks that may use the HTTP endpoint" },
	{ "http", "max_connections", INTEGER(http_max_connections), "128", 1,
	  65536, NULL, NULL, 0,
	  "most HTTP connections at once; more wait their turn" },
	{ "http", "idle_timeout", DURATION(http_idle_timeout), "10s", 1, HOUR,
	  NULL, NULL, 0, "an HTTP connection idle this long is closed" },
	{ "http", "title", STRING(http_title), "", 0, 0, NULL,
	  config_check_title, CONFIG_KEY_EMPTY_OK,
	  "the status page's title; empty: the host name" },
};

const size_t config_nkeys = nitems(config_keys);

const char *
config_type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_BOOL:
		return "boolean";
	case CONFIG_INTEGER:
		return "integer";
	case CONFIG_SIZE:
		return "size";
	case CONFIG_DURATION:
		return "duration";
	case CONFIG_RATIO:
		return "ratio";
	case CONFIG_REAL:
		return "number";
	case CONFIG_ENUM:
		return "enum";
	case CONFIG_PATH:
		return "path";
	case CONFIG_STRING:
		return "string";
	}
	return "?";
}

const struct config_key *
config_key_find(const char *section, const char *name)
{
	size_t	 i;

	for (i = 0; i < config_nkeys; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* port_valid - a decimal TCP port, 1 to 65535, of exactly len bytes */
static int
port_valid(const char *s, size_t len)
{
	long	 port = 0;
	size_t	 i;

	if (len == 0 || len > 5)
		return 0;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		port = port * 10 + (s[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

int
config_check_user(const char *s, char **why_r)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
		    s[i] == '.' || (s[i] == '-' && i > 0)))
			break;
	if (s[i] != '\0' || i == 0 || i > 32) {
		*why_r = xasprintf("\"%.40s\" is not a user name", s);
		return -1;
	}
	return 0;
}

const char *
config_milter_group(const struct config *cfg)
{
	if (cfg->milter_socket_group != NULL &&
	    cfg->milter_socket_group[0] != '\0')
		return cfg->milter_socket_group;
	return cfg->mta == CONFIG_MTA_SENDMAIL ? "root" : "postfix";
}

const char *
config_milter_socket_path(const char *s)
{
	if (strncmp(s, "unix:", 5) == 0)
		return s + 5;
	if (strncmp(s, "local:", 6) == 0)
		return s + 6;
	return NULL;
}

/* host_name_ok - letters, digits, '-' and '.', in labels, at most 253 */
static int
host_name_ok(const char *s)
{
	size_t	 i, label = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return 0;	/* ".x", "a..b" */
			label = 0;
		} else if (isalnum((unsigned char)s[i]) ||
		    (s[i] == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return i > 0 && i <= 253;
}

int
config_milter_socket_parse(const char *s, struct config_milter_socket *r,
    char **why_r)
{
	struct in_addr	 in4;
	unsigned char	 in6[16];
	const char	*p, *at, *host;
	size_t		 len;

	memset(r, 0, sizeof(*r));
	if ((p = config_milter_socket_path(s)) != NULL) {
		r->family = AF_UNIX;
		r->path = p;
		if (*p != '/')
			goto bad;
		if (strlen(p) > CONFIG_MILTER_PATH_MAX) {
			*why_r = xasprintf("the path of \"%.40s...\" has %zu "
			    "bytes, more than the %d a unix socket may have",
			    s, strlen(p), CONFIG_MILTER_PATH_MAX);
			return -1;
		}
		return 0;
	}
	if (strncmp(s, "inet:", 5) == 0) {
		r->family = AF_INET;
		p = s + 5;
	} else if (strncmp(s, "inet6:", 6) == 0) {
		r->family = AF_INET6;
		p = s + 6;
	} else
		goto bad;
	at = strchr(p, '@');
	len = at != NULL ? (size_t)(at - p) : strlen(p);
	if (!port_valid(p, len))
		goto bad;
	r->port = (unsigned)strtoul(p, NULL, 10);
	if (at == NULL)
		return 0;		/* any address */
	host = at + 1;
	len = strlen(host);
	if (len == 0)
		goto bad;
	if (host[0] == '[') {		/* an address in brackets */
		if (len < 3 || host[len - 1] != ']' ||
		    len - 2 >= sizeof(r->host))
			goto bad_host;
		memcpy(r->host, host + 1, len - 2);
		r->host[len - 2] = '\0';
		r->numeric = 1;
	} else {
		if (len >= sizeof(r->host))
			goto bad_host;
		memcpy(r->host, host, len + 1);
		/* what the resolver takes for an address, libmilter too */
		r->numeric = strspn(r->host, "0123456789.") == len ||
		    strchr(r->host, ':') != NULL;
		if (!r->numeric && !host_name_ok(r->host))
			goto bad_host;
	}
	if (!r->numeric)
		return 0;
	if (r->family == AF_INET && (inet_aton(r->host, &in4) == 0 ||
	    r->host[strlen(r->host) - 1] == '.')) {
		*why_r = xasprintf("\"%.80s\" is not an IPv4 address%s",
		    r->host, strchr(r->host, ':') != NULL ?
		    " (inet6: for IPv6)" : "");
		return -1;
	}
	if (r->family == AF_INET6 && inet_pton(AF_INET6, r->host, in6) != 1) {
		*why_r = xasprintf("\"%.80s\" is not an IPv6 address",
		    r->host);
		return -1;
	}
	return 0;
bad_host:
	*why_r = xasprintf("\"%.80s\" is not a host name or address", host);
	return -1;
bad:
	*why_r = xasprintf("\"%.80s\" is not a milter socket "
	    "(unix:/path, inet:port or inet:port@host)", s);
	return -1;
}

/* config_check_milter_socket - {unix|local}:/path, inet[6]:port[@host] */
int
config_check_milter_socket(const char *s, char **why_r)
{
	struct config_milter_socket r;

	return config_milter_socket_parse(s, &r, why_r);
}

/* config_check_listen - host:port, [v6]:port */
int
config_check_listen(const char *s, char **why_r)
{
	const char	*colon;
	unsigned char	 in6[16];
	char		 addr[64];
	size_t		 hostlen;

	if ((colon = strrchr(s, ':')) == NULL)
		goto bad;
	hostlen = colon - s;
	if (hostlen == 0 || !port_valid(colon + 1, strlen(colon + 1)))
		goto bad;
	if (s[0] == '[') {
		if (s[hostlen - 1] != ']' || hostlen - 2 >= sizeof(addr))
			goto bad;
		memcpy(addr, s + 1, hostlen - 2);
		addr[hostlen - 2] = '\0';
		if (inet_pton(AF_INET6, addr, in6) != 1)
			goto bad;
	} else if (memchr(s, ':', hostlen) != NULL ||
	    strcspn(s, " \t,") < hostlen)
		goto bad;
	return 0;
bad:
	*why_r = xasprintf("\"%.80s\" is not host:port", s);
	return -1;
}

/*
 * config_check_allow - a list of addresses and networks, space or comma:
 * the HTTP endpoint's own parser decides (http_allow.h), so a list that
 * passes here is one ebbd can use; empty is refused (it would lock out
 * even the host itself)
 */
int
config_check_allow(const char *s, char **why_r)
{
	struct http_allow *a = xmalloc(sizeof(*a));
	char		*err = NULL;
	int		 rc = 0;

	if (http_allow_parse(s, a, &err) == -1) {
		*why_r = xstrdup(err + strlen("allow: "));
		free(err);
		rc = -1;
	} else if (a->n == 0) {
		*why_r = xstrdup("no address or network");
		rc = -1;
	}
	free(a);
	return rc;
}

/* config_check_title - one line of text people read: at most 120 bytes */
int
config_check_title(const char *s, char **why_r)
{
	if (*s == '\0')
		return 0;
	if (strlen(s) > 120 || !ebb_text_line_valid(s, strlen(s))) {
		*why_r = xstrdup("not a title: one line of UTF-8 text, no "
		    "control characters, at most 120 bytes");
		return -1;
	}
	return 0;
}

/* config_check_domain_lifetimes - the deadline module's parser decides */
int
config_check_domain_lifetimes(const char *s, char **why_r)
{
	struct lifetimes *l;

	if (lifetimes_parse(s, &l, why_r) == -1)
		return -1;
	lifetimes_free(&l);
	return 0;
}

/* config_domain_lifetime - parses the value each call: not for hot paths */
long
config_domain_lifetime(const struct config *cfg, const char *domain)
{
	struct lifetimes *l;
	long		 secs = cfg->remote_lifetime;

	if (lifetimes_parse(cfg->domain_lifetimes, &l, NULL) == 0) {
		secs = lifetimes_lookup(l, domain, cfg->remote_lifetime);
		lifetimes_free(&l);
	}
	return secs;
}
