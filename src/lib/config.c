/*
 * config.c - read, check and print ebb.conf
 *
 * inih splits the file into sections and "key = value" pairs; everything else
 * is driven by the key table in config_table.c: which keys exist, their
 * types, ranges and defaults. The file reaches inih through a line reader of
 * our own, config_read_line(), which
 *   - counts physical lines, so every message names FILE:LINE however inih
 *     was built (INI_HANDLER_LINENO is a build option of the library),
 *   - bounds the line length and the number of lines,
 *   - strips leading white space, so inih's continuation lines never happen,
 *     and comments ("#" or ";" at the start or after white space),
 *   - rejects malformed lines with a reason (inih only gives a line number).
 * The first error stops the parse; the message is "FILE:LINE: KEY: why".
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/duration.h"
#include "ebb/log.h"
#include "ebb/util.h"

#define NUMBER_MAX	64	/* longest numeric value text we read */

struct config_parse {		/* one config_load_stream() */
	const char	*path;
	FILE		*fp;
	struct config	*cfg;
	int		*lines;		/* per key: line that set it, or 0 */
	int		 lineno;	/* of the line last handed to inih */
	int		 err_line;
	char		*err;		/* the first error, complete */
};

static void	 parse_fail(struct config_parse *, int, const char *, ...)
		    EBB_PRINTF(3, 4);

/* parse_fail - keep the first error, as "FILE:LINE: text" */
static void
parse_fail(struct config_parse *st, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	if (st->err != NULL)
		return;
	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		st->err = xasprintf("%s:%d: %s", st->path, line, text);
	else
		st->err = xasprintf("%s: %s", st->path, text);
	st->err_line = line;
	free(text);
}

/* parse_number_text - copy a numeric value, bounded, for strto*() */
static int
parse_number_text(const char *s, char *buf, size_t len)
{
	if (ebb_strlcpy(buf, s, len) >= len) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
config_parse_bool(const char *s, int *val_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*val_r = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*val_r = 0;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

int
config_parse_integer(const char *s, long *val_r)
{
	const char	*digits = s[0] == '-' ? s + 1 : s;
	char		*end;
	long		 v;

	if (!isdigit((unsigned char)digits[0])) {
		errno = EINVAL;		/* empty, "+1", " 1", "x" */
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	*val_r = v;
	return 0;
}

int
config_parse_size(const char *s, long long *val_r)
{
	static const char units[] = "kmgt";
	const char	*p, *u;
	long long	 n = 0, mult = 1;

	for (p = s; isdigit((unsigned char)*p); p++) {
		if (n > (LLONG_MAX - (*p - '0')) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + (*p - '0');
	}
	if (p == s) {
		errno = EINVAL;
		return -1;
	}
	if (*p != '\0') {
		if ((u = strchr(units, tolower((unsigned char)*p))) == NULL ||
		    p[1] != '\0') {
			errno = EINVAL;
			return -1;
		}
		mult = 1LL << (10 * (u - units + 1));
		if (n > LLONG_MAX / mult) {
			errno = ERANGE;
			return -1;
		}
	}
	*val_r = n * mult;
	return 0;
}

int
config_parse_real(const char *s, double *val_r)
{
	const char	*p = s;
	char		 buf[NUMBER_MAX], *end;
	double		 v;
	int		 digits = 0;

	/* [-]digits[.digits][e[+-]digits]: no inf, nan, hex or spaces */
	if (*p == '-')
		p++;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits > 0 && (*p == 'e' || *p == 'E')) {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			digits = 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (digits == 0 || *p != '\0' ||
	    parse_number_text(s, buf, sizeof(buf)) == -1) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtod(buf, &end);
	if (errno == ERANGE || !isfinite(v)) {
		errno = ERANGE;
		return -1;
	}
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	*val_r = v;
	return 0;
}

int
config_parse_ratio(const char *s, double *val_r)
{
	char	 buf[NUMBER_MAX];
	size_t	 len = strlen(s);
	double	 v;

	if (len == 0 || s[len - 1] != '%')
		return config_parse_real(s, val_r);
	if (parse_number_text(s, buf, sizeof(buf)) == -1)
		return -1;
	buf[len - 1] = '\0';
	if (config_parse_real(buf, &v) == -1)
		return -1;
	*val_r = v / 100;
	return 0;
}

/* size_format - bytes in the largest unit that divides them: "256m" */
static void
size_format(long long n, char *buf, size_t len)
{
	static const char units[] = "tgmk";
	size_t	 i;

	for (i = 0; i < sizeof(units) - 1 && n != 0; i++) {
		long long unit = 1LL << (10 * (sizeof(units) - 1 - i));

		if (n % unit == 0) {
			snprintf(buf, len, "%lld%c", n / unit, units[i]);
			return;
		}
	}
	snprintf(buf, len, "%lld", n);
}

/* number_format - a numeric value of key as ebb.conf text */
static void
number_format(const struct config_key *key, double v, char *buf, size_t len)
{
	size_t	 deflen = strlen(key->def);

	switch (key->type) {
	case CONFIG_INTEGER:
		snprintf(buf, len, "%ld", (long)v);
		break;
	case CONFIG_SIZE:
		size_format((long long)v, buf, len);
		break;
	case CONFIG_DURATION:
		duration_format((long)v, buf, len);
		break;
	case CONFIG_RATIO:
		if (deflen > 0 && key->def[deflen - 1] == '%') {
			snprintf(buf, len, "%.15g%%", v * 100);
			break;
		}
		snprintf(buf, len, "%.15g", v);
		break;
	default:	/* CONFIG_REAL: always with a point, "2.0" */
		snprintf(buf, len, "%.15g", v);
		if (strpbrk(buf, ".e") == NULL && strlen(buf) + 2 < len)
			strcat(buf, ".0");
		break;
	}
}

/* enum_why - "\"x\" is not one of a, b, c" */
static char *
enum_why(const struct config_key *key, const char *text)
{
	char	*why, *more;
	size_t	 i;

	why = xasprintf("\"%s\" is not one of %s", text, key->values[0]);
	for (i = 1; key->values[i] != NULL; i++) {
		more = xasprintf("%s%s %s", why,
		    key->values[i + 1] != NULL ? "," : " or", key->values[i]);
		free(why);
		why = more;
	}
	return why;
}

int
config_key_set(struct config *cfg, const struct config_key *key,
    const char *text, char **why_r)
{
	char		*field = (char *)cfg + key->offset;
	char		 lo[DURATION_BUFSZ], hi[DURATION_BUFSZ];
	const char	*kind = config_type_name(key->type);
	long long	 size = 0;
	long		 l = 0;
	double		 num = 0;
	size_t		 i;
	int		 rc = -1, b;

	switch (key->type) {
	case CONFIG_BOOL:
		if (config_parse_bool(text, &b) == -1) {
			*why_r = xasprintf("\"%s\" is not a boolean "
			    "(yes or no)", text);
			return -1;
		}
		*(int *)field = b;
		return 0;
	case CONFIG_ENUM:
		for (i = 0; key->values[i] != NULL; i++)
			if (strcmp(text, key->values[i]) == 0) {
				*(int *)field = (int)i;
				return 0;
			}
		*why_r = enum_why(key, text);
		return -1;
	case CONFIG_PATH:
	case CONFIG_STRING:
		if (*text == '\0' && !(key->flags & CONFIG_KEY_EMPTY_OK)) {
			*why_r = xstrdup("empty value");
			return -1;
		}
		if (*text != '\0' && key->type == CONFIG_PATH) {
			if (text[0] != '/') {
				*why_r = xasprintf("\"%s\" is not an absolute "
				    "path", text);
				return -1;
			}
			if (strlen(text) >= PATH_MAX) {
				*why_r = xstrdup("path too long");
				return -1;
			}
		}
		if (*text != '\0' && key->check != NULL &&
		    key->check(text, why_r) == -1)
			return -1;
		free(*(char **)field);
		*(char **)field = xstrdup(text);
		return 0;
	case CONFIG_INTEGER:
		if ((rc = config_parse_integer(text, &l)) == 0)
			num = l;
		break;
	case CONFIG_SIZE:
		if ((rc = config_parse_size(text, &size)) == 0)
			num = (double)size;
		break;
	case CONFIG_DURATION:
		if ((rc = duration_parse(text, &l)) == 0)
			num = l;
		break;
	case CONFIG_RATIO:
		kind = "ratio or percentage";
		rc = config_parse_ratio(text, &num);
		break;
	case CONFIG_REAL:
		rc = config_parse_real(text, &num);
		break;
	}
	if (rc == -1 && errno != ERANGE) {
		*why_r = xasprintf("\"%s\" is not a%s %s", text,
		    strchr("aeiou", kind[0]) != NULL ? "n" : "", kind);
		return -1;
	}
	if (rc == -1 || num < key->min || num > key->max) {
		number_format(key, key->min, lo, sizeof(lo));
		number_format(key, key->max, hi, sizeof(hi));
		*why_r = xasprintf("\"%s\" is out of range (%s to %s)", text,
		    lo, hi);
		return -1;
	}
	switch (key->type) {
	case CONFIG_SIZE:
		*(long long *)field = size;
		break;
	case CONFIG_INTEGER:
	case CONFIG_DURATION:
		*(long *)field = l;
		break;
	default:
		*(double *)field = num;
		break;
	}
	return 0;
}

char *
config_key_format(const struct config *cfg, const struct config_key *key)
{
	const char	*field = (const char *)cfg + key->offset;
	const char	*s;
	char		 buf[NUMBER_MAX];

	switch (key->type) {
	case CONFIG_BOOL:
		return xstrdup(*(const int *)field ? "yes" : "no");
	case CONFIG_ENUM:
		return xstrdup(key->values[*(const int *)field]);
	case CONFIG_PATH:
	case CONFIG_STRING:
		s = *(char *const *)field;
		return xstrdup(s != NULL ? s : "");
	case CONFIG_SIZE:
		number_format(key, (double)*(const long long *)field, buf,
		    sizeof(buf));
		break;
	case CONFIG_INTEGER:
	case CONFIG_DURATION:
		number_format(key, *(const long *)field, buf, sizeof(buf));
		break;
	case CONFIG_RATIO:
	case CONFIG_REAL:
		number_format(key, *(const double *)field, buf, sizeof(buf));
		break;
	}
	return xstrdup(buf);
}

struct config *
config_defaults(void)
{
	struct config	*cfg;
	char		*why;
	size_t		 i;

	cfg = xcalloc(1, sizeof(*cfg));
	for (i = 0; i < config_nkeys; i++)
		if (config_key_set(cfg, &config_keys[i], config_keys[i].def,
		    &why) == -1)
			log_panic("config table: %s: bad default: %s",
			    config_keys[i].name, why);
	return cfg;
}

void
config_free(struct config **cfgp)
{
	struct config	*cfg = *cfgp;
	size_t		 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < config_nkeys; i++)
		if (config_keys[i].type == CONFIG_PATH ||
		    config_keys[i].type == CONFIG_STRING)
			free(*(char **)((char *)cfg + config_keys[i].offset));
	free(cfg->path);
	free(cfg->lines);
	free(cfg);
	*cfgp = NULL;
}

/* section_known - is name one of config_sections? */
static int
section_known(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; config_sections[i] != NULL; i++)
		if (strlen(config_sections[i]) == len &&
		    strncmp(config_sections[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * line_check - a compacted line is a "[section]" of ours, "key = value" or
 * empty; say why not
 */
static void
line_check(struct config_parse *st, const char *s, size_t len)
{
	size_t	 klen;

	if (len == 0)
		return;
	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			parse_fail(st, st->lineno, "\"%.*s\" is not a section "
			    "header \"[name]\"", (int)MINIMUM(len, 80), s);
		else if (!section_known(s + 1, len - 2))
			parse_fail(st, st->lineno, "unknown section [%.*s]",
			    (int)MINIMUM(len - 2, 80), s + 1);
		return;
	}
	klen = strcspn(s, "=");
	if (klen == len) {
		parse_fail(st, st->lineno, "syntax error: expected "
		    "\"key = value\" or \"[section]\"");
		return;
	}
	while (klen > 0 && (s[klen - 1] == ' ' || s[klen - 1] == '\t'))
		klen--;
	if (klen == 0 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < klen)
		parse_fail(st, st->lineno, "\"%.*s\" is not a key name",
		    (int)MINIMUM(klen, 80), s);
}

/*
 * config_read_line - inih's reader: the next physical line, without leading
 * white space, comment and trailing white space, checked by line_check()
 */
static char *
config_read_line(char *buf, int size, void *arg)
{
	struct config_parse *st = arg;
	char		 line[CONFIG_LINE_MAX];
	size_t		 len = 0, start, end, i;
	int		 c, long_line = 0, control = 0;

	if (st->err != NULL)
		return NULL;		/* the first error ends the parse */
	while ((c = getc(st->fp)) != EOF && c != '\n') {
		if ((c < ' ' && c != '\t' && c != '\r') || c == 0x7f)
			control = 1;
		if (len < sizeof(line) - 1)
			line[len++] = (char)c;
		else
			long_line = 1;
	}
	if (c == EOF && ferror(st->fp)) {
		parse_fail(st, st->lineno + 1, "%s", strerror(errno));
		return NULL;
	}
	if (c == EOF && len == 0)
		return NULL;
	line[len] = '\0';
	if (++st->lineno > CONFIG_LINES_MAX) {
		parse_fail(st, st->lineno, "too many lines (more than %d)",
		    CONFIG_LINES_MAX);
		return NULL;
	}
	if (long_line) {
		parse_fail(st, st->lineno, "line too long (more than %d "
		    "characters)", CONFIG_LINE_MAX - 1);
		return NULL;
	}
	if (control) {
		parse_fail(st, st->lineno, "control character in line");
		return NULL;
	}

	start = 0;
	if (st->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		start = 3;		/* a UTF-8 byte order mark */
	start += strspn(line + start, " \t");
	for (end = i = start; line[i] != '\0'; i++) {
		if ((line[i] == '#' || line[i] == ';') &&
		    (i == start || line[i - 1] == ' ' || line[i - 1] == '\t'))
			break;		/* a comment to the end of the line */
		end = i + 1;
	}
	while (end > start && isspace((unsigned char)line[end - 1]))
		end--;
	if (size < 2 || end - start > (size_t)size - 2) {
		parse_fail(st, st->lineno, "line too long (more than %d "
		    "characters without comments)", size - 2);
		return NULL;
	}
	line_check(st, line + start, end - start);
	if (st->err != NULL)
		return NULL;
	memcpy(buf, line + start, end - start);
	buf[end - start] = '\0';
	return buf;
}

/* unknown_key - "unknown key" with a hint where the key belongs */
static void
unknown_key(struct config_parse *st, const char *section, const char *name)
{
	char	 hint[128] = "";
	size_t	 i, off = 0;
	int	 w;

	for (i = 0; i < config_nkeys; i++) {
		if (strcmp(config_keys[i].name, name) != 0)
			continue;
		w = snprintf(hint + off, sizeof(hint) - off, "%s[%s]",
		    off == 0 ? " (a key of " : " and ",
		    config_keys[i].section);
		if (w < 0 || (size_t)w >= sizeof(hint) - off)
			break;
		off += (size_t)w;
	}
	parse_fail(st, st->lineno, "unknown key \"%s\" in [%s]%s%s", name,
	    section, hint, off > 0 ? ")" : "");
}

/* config_handler - inih's handler: one "key = value" of a known section */
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_parse *st = arg;
	const struct config_key *key;
	char		*why;
	size_t		 k;

	if (st->err != NULL)
		return 0;
	if (*section == '\0') {
		parse_fail(st, st->lineno, "%s: key outside any section", name);
		return 0;
	}
	if ((key = config_key_find(section, name)) == NULL) {
		unknown_key(st, section, name);
		return 0;
	}
	k = key - config_keys;
	if (st->lines[k] != 0) {
		parse_fail(st, st->lineno, "%s: duplicate key, first set on "
		    "line %d", name, st->lines[k]);
		return 0;
	}
	if (config_key_set(st->cfg, key, value, &why) == -1) {
		parse_fail(st, st->lineno, "%s: %s", name, why);
		free(why);
		return 0;
	}
	st->lines[k] = st->lineno;
	return 1;
}

/*
 * cross_fail - keys a and b of section disagree: blame the one set later in
 * the file, with why_a or why_b and the other's value
 */
static void
cross_fail(struct config_parse *st, const char *section, const char *a,
    const char *b, const char *why_a, const char *why_b)
{
	const struct config_key *ka, *kb, *blamed, *other;
	char		*val;
	int		 la, lb;

	ka = config_key_find(section, a);
	kb = config_key_find(section, b);
	if (ka == NULL || kb == NULL)
		log_panic("config cross check: no %s or %s in [%s]", a, b,
		    section);
	la = st->lines[ka - config_keys];
	lb = st->lines[kb - config_keys];
	blamed = lb > la ? kb : ka;
	other = lb > la ? ka : kb;
	val = config_key_format(st->cfg, other);
	parse_fail(st, MAXIMUM(la, lb), "%s: %s %s (%s)", blamed->name,
	    lb > la ? why_b : why_a, other->name, val);
	free(val);
}

/* cross_check - the rules between keys, once every key is read */
static void
cross_check(struct config_parse *st)
{
	const struct config *cfg = st->cfg;
	const struct config_key *key;

	if (cfg->target_low >= cfg->target_high)
		cross_fail(st, "drain", "target_low", "target_high",
		    "must be below", "must be above");
	if (cfg->min_rate > cfg->max_rate)
		cross_fail(st, "drain", "min_rate", "max_rate",
		    "must not be above", "must not be below");
	if (cfg->urgent >= cfg->remote_lifetime)
		cross_fail(st, "milter", "urgent", "remote_lifetime",
		    "must be shorter than", "must be longer than");
	if ((cfg->http_certificate[0] == '\0') != (cfg->http_key[0] == '\0')) {
		key = config_key_find("http", cfg->http_key[0] == '\0' ?
		    "certificate" : "key");
		parse_fail(st, st->lines[key - config_keys], "%s: set without "
		    "%s", key->name, cfg->http_key[0] == '\0' ? "key" :
		    "certificate");
	}
}

int
config_load_stream(FILE *fp, const char *name, struct config **cfg_r,
    char **err_r)
{
	struct config_parse st = { .path = name, .fp = fp };
	int		 rc;

	st.cfg = config_defaults();
	st.cfg->path = xstrdup(name);
	st.lines = xcalloc(config_nkeys, sizeof(*st.lines));
	rc = ini_parse_stream(config_read_line, &st, config_handler, &st);
	if (rc > 0 && (st.err == NULL || rc < st.err_line)) {
		free(st.err);
		st.err = NULL;
		parse_fail(&st, rc, "syntax error");
	} else if (rc < 0 && st.err == NULL)
		parse_fail(&st, 0, "cannot parse (inih error %d)", rc);
	if (st.err == NULL)
		cross_check(&st);
	if (st.err != NULL) {
		free(st.lines);
		config_free(&st.cfg);
		*err_r = st.err;
		return -1;
	}
	st.cfg->lines = st.lines;	/* for config_key_error */
	*cfg_r = st.cfg;
	return 0;
}

int
config_load_file(const char *path, int must_exist, struct config **cfg_r,
    char **err_r)
{
	struct stat	 sb = { 0 };
	FILE		*fp;
	int		 rc;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist) {
			*cfg_r = config_defaults();
			return 0;
		}
		*err_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &sb) == -1 || S_ISDIR(sb.st_mode)) {
		*err_r = xasprintf("%s: %s", path, S_ISDIR(sb.st_mode) ?
		    "is a directory" : strerror(errno));
		fclose(fp);
		return -1;
	}
	rc = config_load_stream(fp, path, cfg_r, err_r);
	fclose(fp);
	return rc;
}

int
config_load(const char *path, struct config **cfg_r, char **err_r)
{
	if (path == NULL)
		return config_load_file(EBB_CONFIG_FILE, 0, cfg_r, err_r);
	return config_load_file(path, 1, cfg_r, err_r);
}

char *
config_key_error(const struct config *cfg, const char *section,
    const char *name, const char *fmt, ...)
{
	const struct config_key *key = config_key_find(section, name);
	const char	*file = cfg->path != NULL ? cfg->path : "(defaults)";
	va_list		 ap;
	char		*why, *text, *val;
	int		 line = 0;

	if (key == NULL)
		log_panic("config_key_error: no key %s in [%s]", name,
		    section);
	va_start(ap, fmt);
	why = xvasprintf(fmt, ap);
	va_end(ap);
	if (cfg->lines != NULL)
		line = cfg->lines[key - config_keys];
	if (line > 0)
		text = xasprintf("%s:%d: %s: %s", file, line, name, why);
	else {
		val = config_key_format(cfg, key);
		text = xasprintf("%s: [%s] %s = %s (the default): %s", file,
		    section, name, val, why);
		free(val);
	}
	free(why);
	return text;
}

void
config_print(FILE *fp, const struct config *cfg, int flags)
{
	const struct config_key *key;
	char	*val;
	size_t	 s, i;
	int	 any = 0, header;

	for (s = 0; config_sections[s] != NULL; s++) {
		header = 0;
		for (i = 0; i < config_nkeys; i++) {
			key = &config_keys[i];
			if (strcmp(key->section, config_sections[s]) != 0)
				continue;
			val = config_key_format(cfg, key);
			if ((flags & CONFIG_PRINT_CHANGED) &&
			    strcmp(val, key->def) == 0) {
				free(val);
				continue;
			}
			if (!header)
				fprintf(fp, "%s[%s]\n", any ? "\n" : "",
				    config_sections[s]);
			header = any = 1;
			if (flags & CONFIG_PRINT_HELP)
				fprintf(fp, "# %s\n", key->help);
			/*
			 * "key = value", unless that is longer than a line
			 * inih reads (INI_MAX_LINE, less the newline and
			 * NUL): then "key=value", never longer than the line
			 * the value came from, so what is printed loads. So
			 * too for a value that starts with "#" or ";" (read
			 * from "key =#x"): after a blank, inih would take it
			 * for a comment and load the key empty.
			 */
			if (strlen(key->name) + 3 + strlen(val) >
			    INI_MAX_LINE - 2 || *val == '#' || *val == ';')
				fprintf(fp, "%s=%s\n", key->name, val);
			else
				fprintf(fp, "%s =%s%s\n", key->name,
				    *val != '\0' ? " " : "", val);
			free(val);
		}
	}
}
