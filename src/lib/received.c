/*
 * received.c - read the date at the end of a Received: header
 *
 * A recursive-descent reader over a cursor (pointer, end) that never looks
 * at *end: every step checks p < end first. Numbers are read digit by digit
 * with their length bounded before their value is used, so no input can
 * overflow them. The instant is computed with days_from_civil() instead of
 * timegm(), which is neither standard nor free of the TZ environment, so the
 * parser is pure and thread-safe. What is accepted is listed in received.h.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ebb/received.h"
#include "ebb/util.h"

#define WORD_MAX	9	/* "September", "Wednesday" */
#define ZONE_WORD_MAX	5	/* RFC 5322 4.3: "usually between 3 and 5" */

struct cursor {
	const unsigned char	*p;
	const unsigned char	*end;
};

/* the fields of one date-time; month 0-11, zone offset in minutes */
struct date {
	int	 year;
	int	 mon;
	int	 mday;
	int	 hour;
	int	 min;
	int	 sec;
	int	 zone;
};

static const char *const weekday_names[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday",
};

static const char *const month_names[] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
};

/* RFC 5322 4.3 obs-zone; any other alphabetic zone means -0000 (UTC) */
static const struct zone_name {
	const char	*name;
	int		 minutes;
} zone_names[] = {
	{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 },
	{ "est", -5 * 60 }, { "edt", -4 * 60 },
	{ "cst", -6 * 60 }, { "cdt", -5 * 60 },
	{ "mst", -7 * 60 }, { "mdt", -6 * 60 },
	{ "pst", -8 * 60 }, { "pdt", -7 * 60 },
};

static int
at_alpha(const struct cursor *c)
{
	return c->p < c->end &&
	    ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z'));
}

static int
at_digit(const struct cursor *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

static int
at_char(const struct cursor *c, int ch)
{
	return c->p < c->end && *c->p == ch;
}

/*
 * skip_cfws - skip whitespace (folded or not) and comments. -1 for a comment
 * that is not closed before the end or nests deeper than the bound.
 */
static int
skip_cfws(struct cursor *c)
{
	unsigned char	 ch;
	int		 depth;

	while (c->p < c->end) {
		ch = *c->p;
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			c->p++;
			continue;
		}
		if (ch != '(')
			break;
		depth = 0;
		do {
			ch = *c->p++;
			if (ch == '\\') {		/* quoted-pair */
				if (c->p < c->end)
					c->p++;
			} else if (ch == '(') {
				if (++depth > RECEIVED_COMMENT_DEPTH)
					return -1;
			} else if (ch == ')')
				depth--;
		} while (depth > 0 && c->p < c->end);
		if (depth > 0)
			return -1;
	}
	return 0;
}

/* read_word - letters, lowercased into w (WORD_MAX + 1 bytes); -1 if longer */
static int
read_word(struct cursor *c, char *w, size_t *len_r)
{
	size_t	 n = 0;

	while (at_alpha(c)) {
		if (n == WORD_MAX)
			return -1;
		w[n++] = (char)(*c->p | 0x20);
		c->p++;
	}
	w[n] = '\0';
	*len_r = n;
	return n > 0 ? 0 : -1;
}

/* name_index - which name w abbreviates (3 letters or more); -1 if none */
static int
name_index(const char *w, size_t len, const char *const *names, size_t n)
{
	size_t	 i;

	if (len < 3)
		return -1;
	for (i = 0; i < n; i++)
		if (strlen(names[i]) >= len && memcmp(names[i], w, len) == 0)
			return (int)i;
	return -1;
}

/*
 * read_number - all the digits at the cursor: -1 unless there are between
 * min and max of them (max <= 4, so the value cannot overflow)
 */
static int
read_number(struct cursor *c, int min, int max, int *v_r, int *ndigits_r)
{
	int	 n = 0, v = 0;

	while (at_digit(c)) {
		if (n == max)
			return -1;
		v = v * 10 + (*c->p - '0');
		n++;
		c->p++;
	}
	if (n < min)
		return -1;
	*v_r = v;
	if (ndigits_r != NULL)
		*ndigits_r = n;
	return 0;
}

/* parse_year - 2 to 4 digits; RFC 5322 4.3 for the short ones */
static int
parse_year(struct cursor *c, struct date *d)
{
	int	 n;

	if (read_number(c, 2, 4, &d->year, &n) == -1)
		return -1;
	if (n == 2)
		d->year += d->year < 50 ? 2000 : 1900;
	else if (n == 3)
		d->year += 1900;
	else if (d->year < 1900)
		return -1;
	return 0;
}

/* parse_month - a month name or its abbreviation */
static int
parse_month(struct cursor *c, struct date *d)
{
	char	 w[WORD_MAX + 1];
	size_t	 len;

	if (read_word(c, w, &len) == -1)
		return -1;
	d->mon = name_index(w, len, month_names, nitems(month_names));
	return d->mon < 0 ? -1 : 0;
}

/* parse_time - hour ":" minute [":" second], comments around the colons */
static int
parse_time(struct cursor *c, struct date *d)
{
	if (read_number(c, 1, 2, &d->hour, NULL) == -1 ||
	    skip_cfws(c) == -1 || !at_char(c, ':'))
		return -1;
	c->p++;
	if (skip_cfws(c) == -1 || read_number(c, 2, 2, &d->min, NULL) == -1 ||
	    skip_cfws(c) == -1)
		return -1;
	if (at_char(c, ':')) {
		c->p++;
		if (skip_cfws(c) == -1 ||
		    read_number(c, 2, 2, &d->sec, NULL) == -1)
			return -1;
	}
	return 0;
}

/* parse_zone - +hhmm, -hhmm, +hh:mm, or a word of up to 5 letters */
static int
parse_zone(struct cursor *c, struct date *d)
{
	char	 w[WORD_MAX + 1];
	size_t	 len, i;
	int	 sign, hh, mm, n;

	if (at_char(c, '+') || at_char(c, '-')) {
		sign = *c->p++ == '-' ? -1 : 1;
		if (read_number(c, 2, 4, &hh, &n) == -1)
			return -1;
		if (n == 4) {
			mm = hh % 100;
			hh /= 100;
		} else if (n == 2 && at_char(c, ':')) {
			c->p++;
			if (read_number(c, 2, 2, &mm, NULL) == -1)
				return -1;
		} else
			return -1;
		if (hh > 23 || mm > 59)
			return -1;
		d->zone = sign * (hh * 60 + mm);
		return 0;
	}
	if (read_word(c, w, &len) == -1 || len > ZONE_WORD_MAX)
		return -1;
	d->zone = 0;
	for (i = 0; i < nitems(zone_names); i++)
		if (strcmp(zone_names[i].name, w) == 0)
			d->zone = zone_names[i].minutes;
	return 0;
}

static int
at_zone(const struct cursor *c)
{
	return at_alpha(c) || at_char(c, '+') || at_char(c, '-');
}

/* parse_rfc - day month year time [zone], after the weekday */
static int
parse_rfc(struct cursor *c, struct date *d)
{
	if (read_number(c, 1, 2, &d->mday, NULL) == -1 ||
	    skip_cfws(c) == -1 || parse_month(c, d) == -1 ||
	    skip_cfws(c) == -1 || parse_year(c, d) == -1 ||
	    skip_cfws(c) == -1 || parse_time(c, d) == -1 ||
	    skip_cfws(c) == -1)
		return -1;
	if (at_zone(c))
		return parse_zone(c, d);
	return 0;
}

/*
 * parse_asctime - what follows the month in asctime() and date(1) order:
 * day time year [zone], or day time zone year
 */
static int
parse_asctime(struct cursor *c, struct date *d)
{
	if (skip_cfws(c) == -1 || read_number(c, 1, 2, &d->mday, NULL) == -1 ||
	    skip_cfws(c) == -1 || parse_time(c, d) == -1 ||
	    skip_cfws(c) == -1)
		return -1;
	if (at_zone(c)) {
		if (parse_zone(c, d) == -1 || skip_cfws(c) == -1)
			return -1;
		return parse_year(c, d);
	}
	if (parse_year(c, d) == -1 || skip_cfws(c) == -1)
		return -1;
	if (at_zone(c))
		return parse_zone(c, d);
	return 0;
}

static int
leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * days_from_civil - days since 1970-01-01 of a proleptic Gregorian date
 * (H. Hinnant's algorithm); m is 1-12
 */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* date_time - check every field's range and compute the instant */
static int
date_time(const struct date *d, time_t *when_r)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	long long	 t;
	int		 last;

	if (d->mon < 0 || d->mon > 11)
		return -1;
	last = mdays[d->mon] + (d->mon == 1 && leap_year(d->year));
	if (d->mday < 1 || d->mday > last || d->hour > 23 || d->min > 59 ||
	    d->sec > 60)		/* 60: a leap second */
		return -1;
	t = days_from_civil(d->year, d->mon + 1, d->mday) * 86400 +
	    d->hour * 3600 + d->min * 60 + d->sec - d->zone * 60LL;
	if ((long long)(time_t)t != t)
		return -1;		/* a 32-bit time_t */
	*when_r = (time_t)t;
	return 0;
}

int
rfc5322_date_parse(const char *s, size_t len, time_t *when_r)
{
	struct cursor	 c;
	struct date	 d;
	char		 w[WORD_MAX + 1];
	size_t		 wlen;
	int		 asctime_order = 0;

	if (s == NULL)
		return -1;
	c.p = (const unsigned char *)s;
	c.end = c.p + len;
	memset(&d, 0, sizeof(d));
	if (skip_cfws(&c) == -1)
		return -1;
	if (at_alpha(&c)) {
		/* a weekday (its value is not checked: senders get it wrong) */
		if (read_word(&c, w, &wlen) == -1)
			return -1;
		if (name_index(w, wlen, weekday_names,
		    nitems(weekday_names)) >= 0) {
			if (skip_cfws(&c) == -1)
				return -1;
			if (at_char(&c, ',')) {
				c.p++;
				if (skip_cfws(&c) == -1)
					return -1;
			}
			if (at_alpha(&c)) {
				if (parse_month(&c, &d) == -1)
					return -1;
				asctime_order = 1;
			}
		} else {
			d.mon = name_index(w, wlen, month_names,
			    nitems(month_names));
			if (d.mon < 0)
				return -1;
			asctime_order = 1;
		}
	}
	if ((asctime_order ? parse_asctime(&c, &d) : parse_rfc(&c, &d)) == -1)
		return -1;
	if (skip_cfws(&c) == -1 || c.p != c.end)
		return -1;		/* trailing garbage */
	return date_time(&d, when_r);
}

int
received_date(const char *value, size_t len, time_t *when_r)
{
	const char	*top = NULL, *any = NULL;
	size_t		 i, depth = 0;

	if (value == NULL)
		return -1;
	for (i = 0; i < len; i++) {
		switch (value[i]) {
		case '\\':
			if (depth > 0)
				i++;		/* quoted-pair in a comment */
			break;
		case '(':
			depth++;
			break;
		case ')':
			if (depth > 0)
				depth--;
			break;
		case ';':
			any = value + i;
			if (depth == 0)
				top = any;
			break;
		}
	}
	if (top != NULL && rfc5322_date_parse(top + 1,
	    len - (size_t)(top + 1 - value), when_r) == 0)
		return 0;
	if (any != NULL && any != top && rfc5322_date_parse(any + 1,
	    len - (size_t)(any + 1 - value), when_r) == 0)
		return 0;
	return -1;
}
