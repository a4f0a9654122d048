/*
 * sendmail_cf.c - what ebb reads from sendmail.cf
 *
 * Only what decides where the queue is and when mail bounces: the
 * QueueDirectory option, the Timeout.queuereturn options, the queue
 * groups' directories (Q lines, Path=) and the precedence names (P lines)
 * that pick a message's timeout class. The .cf is Sendmail's own output
 * of m4, but it is read like any outside input: a bounded size, one line
 * at a time, folded continuation lines, values checked.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ebb/util.h"
#include "sendmail.h"

#define SM_DURATION_MAX	(10L * 365 * 86400)

long
sm_cf_duration(const char *s, int default_unit)
{
	long		 total = 0, v, unit;
	int		 any = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	while (*s != '\0' && *s != ' ' && *s != '\t') {
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (v > SM_DURATION_MAX)
				return -1;
		}
		switch (isalpha((unsigned char)*s) ? *s++ : default_unit) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		default: return -1;
		}
		if (v > SM_DURATION_MAX / unit ||
		    (total += v * unit) > SM_DURATION_MAX)
			return -1;
		any = 1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return any && *s == '\0' ? total : -1;
}

int
sm_cf_precedence(void *arg, const char *name)
{
	const struct sm_cf *cf = arg;
	size_t		 i;

	for (i = 0; i < cf->nprec; i++)
		if (strcasecmp(cf->prec_name[i], name) == 0)
			return cf->prec_value[i];
	return 0;
}

void
sm_cf_free(struct sm_cf *cf)
{
	size_t		 i;

	free(cf->queue_dir);
	for (i = 0; i < cf->ngroup_dirs; i++)
		free(cf->group_dirs[i]);
	free(cf->group_dirs);
	for (i = 0; i < cf->nprec; i++)
		free(cf->prec_name[i]);
	free(cf->prec_name);
	free(cf->prec_value);
	memset(cf, 0, sizeof(*cf));
}

/* trim - cut blanks at both ends, in place */
static char *
trim(char *s)
{
	size_t		 n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* cf_dir - a queue directory: absolute, no "..", at most one final "*" */
static int
cf_dir(const char *v, char **why_r)
{
	const char	*star = strchr(v, '*');

	if (v[0] != '/' || strlen(v) >= PATH_MAX) {
		*why_r = xasprintf("queue directory \"%.80s\" is not an "
		    "absolute path", v);
		return -1;
	}
	if (strstr(v, "/../") != NULL || (star != NULL && (star[1] != '\0' ||
	    strrchr(v, '/') > star))) {
		*why_r = xasprintf("queue directory \"%.80s\": only a final "
		    "\"*\" is understood", v);
		return -1;
	}
	return 0;
}

/* cf_option - an O line (without the O) */
static int
cf_option(struct sm_cf *cf, char *s, char **why_r)
{
	static const struct {
		const char	*name;
		int		 cls;		/* -1: every class */
	} timeouts[] = {
		{ "Timeout.queuereturn", -1 },
		{ "Timeout.queuereturn.normal", SM_QF_CLASS_NORMAL },
		{ "Timeout.queuereturn.urgent", SM_QF_CLASS_URGENT },
		{ "Timeout.queuereturn.non-urgent", SM_QF_CLASS_NONURGENT },
		{ "Timeout.queuereturn.dsn", SM_QF_CLASS_DSN },
	};
	char		*name, *val, *eq;
	size_t		 i;
	long		 v;
	int		 c;

	if (s[0] != ' ' && s[0] != '\t') {
		/* the old one-letter form: OQ/var/spool/mqueue */
		if (s[0] != 'Q')
			return 0;
		val = trim(s + 1);
		if (cf_dir(val, why_r) < 0)
			return -1;
		free(cf->queue_dir);
		cf->queue_dir = xstrdup(val);
		return 0;
	}
	if ((eq = strchr(s, '=')) == NULL)
		return 0;
	*eq = '\0';
	name = trim(s);
	val = trim(eq + 1);
	if (strcasecmp(name, "QueueDirectory") == 0) {
		if (cf_dir(val, why_r) < 0)
			return -1;
		free(cf->queue_dir);
		cf->queue_dir = xstrdup(val);
		return 0;
	}
	for (i = 0; i < nitems(timeouts); i++) {
		if (strcasecmp(name, timeouts[i].name) != 0)
			continue;
		if ((v = sm_cf_duration(val, 'd')) < 0) {
			*why_r = xasprintf("%s: \"%.40s\" is not a time",
			    timeouts[i].name, val);
			return -1;
		}
		for (c = 0; c < SM_QF_CLASS_COUNT; c++)
			if (timeouts[i].cls < 0 || timeouts[i].cls == c)
				cf->lifetime[c] = v;
		return 0;
	}
	return 0;
}

/* cf_group - a Q line: "name, Path=/dir, Flags=..., ..." */
static int
cf_group(struct sm_cf *cf, char *s, char **why_r)
{
	char		*field, *val, *next;

	if ((field = strchr(s, ',')) == NULL)
		return 0;	/* no Path: the group uses QueueDirectory */
	for (field++; field != NULL; field = next) {
		if ((next = strchr(field, ',')) != NULL)
			*next++ = '\0';
		field = trim(field);
		if ((field[0] != 'P' && field[0] != 'p') ||
		    (val = strchr(field, '=')) == NULL)
			continue;
		val = trim(val + 1);
		if (cf_dir(val, why_r) < 0)
			return -1;
		cf->group_dirs = xreallocarray(cf->group_dirs,
		    cf->ngroup_dirs + 1, sizeof(*cf->group_dirs));
		cf->group_dirs[cf->ngroup_dirs++] = xstrdup(val);
	}
	return 0;
}

/* cf_prec - a P line: "name=value" */
static int
cf_prec(struct sm_cf *cf, char *s, char **why_r)
{
	char		*eq, *end;
	long		 v;

	if ((eq = strchr(s, '=')) == NULL) {
		*why_r = xstrdup("precedence (P) without \"=\"");
		return -1;
	}
	*eq = '\0';
	v = strtol(trim(eq + 1), &end, 10);
	if (*trim(end) != '\0' || v < INT_MIN / 2 || v > INT_MAX / 2) {
		*why_r = xasprintf("precedence %.40s: not a number", trim(s));
		return -1;
	}
	cf->prec_name = xreallocarray(cf->prec_name, cf->nprec + 1,
	    sizeof(*cf->prec_name));
	cf->prec_value = xreallocarray(cf->prec_value, cf->nprec + 1,
	    sizeof(*cf->prec_value));
	cf->prec_name[cf->nprec] = xstrdup(trim(s));
	cf->prec_value[cf->nprec++] = (int)v;
	return 0;
}

int
sm_cf_parse(const char *text, size_t len, struct sm_cf *cf, char **err_r)
{
	char		*buf, *line, *nl, *end, *why = NULL;
	size_t		 lineno = 1, start;
	int		 c, rc = 0;

	memset(cf, 0, sizeof(*cf));
	for (c = 0; c < SM_QF_CLASS_COUNT; c++)
		cf->lifetime[c] = -1;
	if (len > SM_CF_MAX) {
		*err_r = xstrdup("larger than any sendmail.cf");
		return -1;
	}
	buf = xmalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		free(buf);
		*err_r = xstrdup("a NUL byte: not a sendmail.cf");
		return -1;
	}
	end = buf + len;
	for (line = buf; line < end && rc == 0; line = nl + 1) {
		start = lineno;
		/* a line and its continuation lines (leading blanks) */
		for (nl = line;; nl++) {
			if ((nl = memchr(nl, '\n', (size_t)(end - nl))) ==
			    NULL) {
				nl = end;
				break;
			}
			lineno++;
			if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
				*nl = ' ';
				continue;
			}
			break;
		}
		*nl = '\0';
		switch (line[0]) {
		case 'O':
			rc = cf_option(cf, line + 1, &why);
			break;
		case 'Q':
			rc = cf_group(cf, line + 1, &why);
			break;
		case 'P':
			rc = cf_prec(cf, line + 1, &why);
			break;
		}
		if (rc < 0) {
			*err_r = xasprintf("line %zu: %s", start, why);
			free(why);
		}
	}
	free(buf);
	if (rc < 0)
		sm_cf_free(cf);
	return rc;
}
