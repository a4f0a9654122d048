/*
 * backlog.c - the backlog as a table: domains by age and time to deadline
 *
 * The rules (buckets, domains, what is counted) are in backlog.h. Rows live
 * in a growing array and are found through an open-addressing hash of
 * their domain; a row remembers the last message that counted in it, so a
 * message with many recipients in one domain counts once without a search.
 * The rows are sorted when first read after a change.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/backlog.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/util.h"

/* upper bounds of the age buckets, minutes; the last bucket has none */
static const long long backlog_age_limits[BACKLOG_AGE_BUCKETS - 1] = {
	5, 10, 20, 40, 80, 160, 320, 640, 1280
};

static const char *const backlog_age_labels[BACKLOG_AGE_BUCKETS] = {
	"5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"
};

/* upper bounds of the deadline buckets after "expired", seconds */
static const long long backlog_deadline_limits[BACKLOG_DEADLINE_BUCKETS - 2] = {
	3600, 6 * 3600, 24 * 3600, 48 * 3600
};

static const char *const backlog_deadline_labels[BACKLOG_DEADLINE_BUCKETS] = {
	"expired", "<1h", "<6h", "<24h", "<48h", "later"
};

static const char *const backlog_by_names[] = {
	[BACKLOG_BY_RCPT_DOMAIN] = "rcpt-domain",
	[BACKLOG_BY_SENDER_DOMAIN] = "sender-domain",
};

struct backlog_entry {
	struct backlog_row row;
	uint64_t	 hash;
	uint64_t	 last_msg;	/* serial of the last message counted */
};

struct backlog {
	enum backlog_by	 by;
	time_t		 now;
	uint64_t	 serial;	/* messages added */
	struct backlog_row total;

	struct backlog_entry **rows;	/* display order once sorted */
	size_t		 nrows;
	size_t		 caprows;
	int		 sorted;

	struct backlog_entry **slots;	/* hash of rows, power of 2 */
	size_t		 nslots;
};

int
backlog_age_bucket(long long age_seconds)
{
	int	 i;

	for (i = 0; i < BACKLOG_AGE_BUCKETS - 1; i++)
		if (age_seconds < backlog_age_limits[i] * 60)
			return i;
	return BACKLOG_AGE_BUCKETS - 1;
}

int
backlog_deadline_bucket(long long left_seconds)
{
	int	 i;

	if (left_seconds <= 0)
		return 0;
	for (i = 0; i < BACKLOG_DEADLINE_BUCKETS - 2; i++)
		if (left_seconds < backlog_deadline_limits[i])
			return i + 1;
	return BACKLOG_DEADLINE_BUCKETS - 1;
}

const char *
backlog_age_label(int bucket)
{
	if (bucket < 0 || bucket >= BACKLOG_AGE_BUCKETS)
		return NULL;
	return backlog_age_labels[bucket];
}

const char *
backlog_deadline_label(int bucket)
{
	if (bucket < 0 || bucket >= BACKLOG_DEADLINE_BUCKETS)
		return NULL;
	return backlog_deadline_labels[bucket];
}

const char *
backlog_by_name(enum backlog_by by)
{
	if ((size_t)by >= nitems(backlog_by_names))
		return "unknown";
	return backlog_by_names[by];
}

int
backlog_by_lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(backlog_by_names); i++)
		if (strcmp(name, backlog_by_names[i]) == 0)
			return (int)i;
	return -1;
}

struct backlog *
backlog_new(enum backlog_by by, time_t now)
{
	struct backlog	*b;

	b = xcalloc(1, sizeof(*b));
	b->by = by;
	b->now = now;
	b->total.domain = BACKLOG_TOTAL;
	b->nslots = 64;
	b->slots = xcalloc(b->nslots, sizeof(*b->slots));
	b->sorted = 1;
	return b;
}

void
backlog_free(struct backlog **bp)
{
	struct backlog	*b = *bp;
	size_t		 i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nrows; i++) {
		free((char *)b->rows[i]->row.domain);
		free(b->rows[i]);
	}
	free(b->rows);
	free(b->slots);
	free(b);
	*bp = NULL;
}

/*
 * backlog_domain - the row name of an address into buf (at least
 * BACKLOG_DOMAIN_MAX + 1 bytes): see backlog.h
 */
static void
backlog_domain(const char *addr, char *buf)
{
	const char	*d, *at;
	size_t		 len, i;
	unsigned char	 c;

	if (addr == NULL || *addr == '\0') {
		ebb_strlcpy(buf, "MAILER-DAEMON", BACKLOG_DOMAIN_MAX + 1);
		return;
	}
	d = (at = strrchr(addr, '@')) != NULL ? at + 1 : addr;
	while (*d == '.')
		d++;
	len = strnlen(d, BACKLOG_DOMAIN_MAX);
	while (len > 0 && d[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++) {
		c = (unsigned char)d[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (c < 0x21 || c > 0x7e)
			c = '?';
		buf[i] = (char)c;
	}
	buf[len] = '\0';
	if (len == 0)
		ebb_strlcpy(buf, "(none)", BACKLOG_DOMAIN_MAX + 1);
}

/* backlog_hash - FNV-1a */
static uint64_t
backlog_hash(const char *s)
{
	uint64_t	 h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* backlog_grow - double the hash when it is half full */
static void
backlog_grow(struct backlog *b)
{
	size_t	 i, j, mask;

	free(b->slots);
	b->nslots *= 2;
	b->slots = xcalloc(b->nslots, sizeof(*b->slots));
	mask = b->nslots - 1;
	for (i = 0; i < b->nrows; i++) {
		for (j = b->rows[i]->hash & mask; b->slots[j] != NULL;
		    j = (j + 1) & mask)
			;
		b->slots[j] = b->rows[i];
	}
}

/* backlog_entry - the row of domain, created when new */
static struct backlog_entry *
backlog_entry(struct backlog *b, const char *domain)
{
	struct backlog_entry *e;
	uint64_t	 h = backlog_hash(domain);
	size_t		 j, mask = b->nslots - 1;

	for (j = h & mask; (e = b->slots[j]) != NULL; j = (j + 1) & mask)
		if (e->hash == h && strcmp(e->row.domain, domain) == 0)
			return e;
	e = xcalloc(1, sizeof(*e));
	e->row.domain = xstrdup(domain);
	e->hash = h;
	b->slots[j] = e;
	if (b->nrows == b->caprows) {
		b->caprows = b->caprows ? b->caprows * 2 : 64;
		b->rows = xreallocarray(b->rows, b->caprows, sizeof(*b->rows));
	}
	b->rows[b->nrows++] = e;
	if (b->nrows * 2 > b->nslots)
		backlog_grow(b);
	return e;
}

/* backlog_count - one message in one row */
static void
backlog_count(struct backlog_row *r, int age, int dl)
{
	r->total++;
	r->age[age]++;
	r->deadline[dl]++;
}

void
backlog_add(struct backlog *b, const struct msg *m)
{
	struct backlog_entry *e;
	char		 domain[BACKLOG_DOMAIN_MAX + 1];
	int		 age, dl;
	uint32_t	 i;

	age = backlog_age_bucket((long long)b->now -
	    (long long)m->arrival_time);
	dl = backlog_deadline_bucket((long long)m->deadline -
	    (long long)b->now);
	b->serial++;
	b->sorted = 0;
	backlog_count(&b->total, age, dl);
	if (b->by == BACKLOG_BY_SENDER_DOMAIN) {
		backlog_domain(m->sender, domain);
		backlog_count(&backlog_entry(b, domain)->row, age, dl);
		return;
	}
	for (i = 0; i < m->nrcpt; i++) {
		backlog_domain(m->rcpt[i], domain);
		e = backlog_entry(b, domain);
		if (e->last_msg == b->serial)
			continue;	/* this message already counts here */
		e->last_msg = b->serial;
		backlog_count(&e->row, age, dl);
	}
}

/* backlog_cmp - most messages first, then by name */
static int
backlog_cmp(const void *x, const void *y)
{
	const struct backlog_entry *a = *(const struct backlog_entry *const *)x;
	const struct backlog_entry *c = *(const struct backlog_entry *const *)y;

	if (a->row.total != c->row.total)
		return a->row.total > c->row.total ? -1 : 1;
	return strcmp(a->row.domain, c->row.domain);
}

static void
backlog_sort(struct backlog *b)
{
	if (b->sorted)
		return;
	qsort(b->rows, b->nrows, sizeof(*b->rows), backlog_cmp);
	b->sorted = 1;
}

size_t
backlog_nrows(struct backlog *b)
{
	return b->nrows + 1;
}

const struct backlog_row *
backlog_row(struct backlog *b, size_t i)
{
	if (i == 0)
		return &b->total;
	if (i > b->nrows)
		return NULL;
	backlog_sort(b);
	return &b->rows[i - 1]->row;
}

/* backlog_shown - the rows to show: TOTAL and at most top domains */
static size_t
backlog_shown(struct backlog *b, size_t top)
{
	backlog_sort(b);
	if (top == 0 || top > b->nrows)
		top = b->nrows;
	return top + 1;
}

/* backlog_digits - the width of a count */
static int
backlog_digits(unsigned long v)
{
	int	 n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* the widths of the text table */
struct backlog_widths {
	int	 domain;
	int	 total;
	int	 age[BACKLOG_AGE_BUCKETS];
	int	 deadline[BACKLOG_DEADLINE_BUCKETS];
};

/* backlog_col - widen a column to hold v; one space before each */
static void
backlog_col(int *w, unsigned long v)
{
	*w = MAXIMUM(*w, backlog_digits(v) + 1);
}

static void
backlog_measure(struct backlog *b, size_t shown, struct backlog_widths *w)
{
	const struct backlog_row *r;
	size_t		 i;
	int		 k;

	w->domain = (int)strlen(BACKLOG_TOTAL);
	w->total = 4;				/* " " + a 3-digit "T" */
	for (k = 0; k < BACKLOG_AGE_BUCKETS; k++)
		w->age[k] = MAXIMUM(4, (int)strlen(backlog_age_labels[k]) + 1);
	for (k = 0; k < BACKLOG_DEADLINE_BUCKETS; k++)
		w->deadline[k] = MAXIMUM(4,
		    (int)strlen(backlog_deadline_labels[k]) + 1);
	for (i = 0; i < shown; i++) {
		r = backlog_row(b, i);
		w->domain = MAXIMUM(w->domain, (int)strlen(r->domain));
		backlog_col(&w->total, r->total);
		for (k = 0; k < BACKLOG_AGE_BUCKETS; k++)
			backlog_col(&w->age[k], r->age[k]);
		for (k = 0; k < BACKLOG_DEADLINE_BUCKETS; k++)
			backlog_col(&w->deadline[k], r->deadline[k]);
	}
}

#define BACKLOG_AGE_TITLE	"age in queue, minutes"
#define BACKLOG_DEADLINE_TITLE	"time to bounce deadline"

void
backlog_print(struct backlog *b, size_t top, FILE *fp)
{
	struct backlog_widths w;
	const struct backlog_row *r;
	size_t		 shown, i;
	int		 k, agew;

	shown = backlog_shown(b, top);
	backlog_measure(b, shown, &w);

	/* the group titles, over the first column of each group */
	for (k = 0, agew = 0; k < BACKLOG_AGE_BUCKETS; k++)
		agew += w.age[k];
	fprintf(fp, "%*s %-*s | %s\n", w.domain + w.total, "",
	    MAXIMUM(agew - 1, 0), BACKLOG_AGE_TITLE, BACKLOG_DEADLINE_TITLE);

	/* the bucket labels */
	fprintf(fp, "%*s%*s", w.domain, "", w.total, "T");
	for (k = 0; k < BACKLOG_AGE_BUCKETS; k++)
		fprintf(fp, "%*s", w.age[k], backlog_age_labels[k]);
	fputs(" |", fp);
	for (k = 0; k < BACKLOG_DEADLINE_BUCKETS; k++)
		fprintf(fp, "%*s", w.deadline[k], backlog_deadline_labels[k]);
	fputc('\n', fp);

	for (i = 0; i < shown; i++) {
		r = backlog_row(b, i);
		fprintf(fp, "%*s%*lu", w.domain, r->domain, w.total, r->total);
		for (k = 0; k < BACKLOG_AGE_BUCKETS; k++)
			fprintf(fp, "%*lu", w.age[k], r->age[k]);
		fputs(" |", fp);
		for (k = 0; k < BACKLOG_DEADLINE_BUCKETS; k++)
			fprintf(fp, "%*lu", w.deadline[k], r->deadline[k]);
		fputc('\n', fp);
	}
}

/* backlog_json_counts - an array of counts */
static json_t *
backlog_json_counts(const unsigned long *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

/* backlog_json_labels - an array of strings */
static json_t *
backlog_json_labels(const char *const *v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *
backlog_to_json(struct backlog *b, size_t top)
{
	const struct backlog_row *r;
	json_t		*o, *rows, *row;
	size_t		 shown, i;

	shown = backlog_shown(b, top);
	o = json_object();
	json_object_set_new(o, "now", json_integer((json_int_t)b->now));
	json_object_set_new(o, "by", json_string(backlog_by_name(b->by)));
	json_object_set_new(o, "count", json_string("messages"));
	json_object_set_new(o, "age_buckets", backlog_json_labels(
	    backlog_age_labels, BACKLOG_AGE_BUCKETS));
	json_object_set_new(o, "deadline_buckets", backlog_json_labels(
	    backlog_deadline_labels, BACKLOG_DEADLINE_BUCKETS));
	rows = json_array();
	for (i = 0; i < shown; i++) {
		r = backlog_row(b, i);
		row = json_object();
		/* domains are printable ASCII (backlog_domain): valid UTF-8 */
		json_object_set_new(row, "domain", json_string(r->domain));
		json_object_set_new(row, "total",
		    json_integer((json_int_t)r->total));
		json_object_set_new(row, "age",
		    backlog_json_counts(r->age, BACKLOG_AGE_BUCKETS));
		json_object_set_new(row, "deadline",
		    backlog_json_counts(r->deadline, BACKLOG_DEADLINE_BUCKETS));
		json_array_append_new(rows, row);
	}
	json_object_set_new(o, "rows", rows);
	return o;
}

char *
backlog_json(struct backlog *b, size_t top)
{
	json_t	*o = backlog_to_json(b, top);
	char	*s;

	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		log_fatal("out of memory formatting the backlog as JSON");
	return s;
}

/* backlog_counts_parse - an array of n counts into v */
static int
backlog_counts_parse(json_t *a, unsigned long *v, size_t n)
{
	json_t	*j;
	size_t	 i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return -1;
	json_array_foreach(a, i, j) {
		if (!json_is_integer(j) || json_integer_value(j) < 0)
			return -1;
		v[i] = (unsigned long)json_integer_value(j);
	}
	return 0;
}

/* backlog_row_parse - one row object into *r; domain: its name */
static int
backlog_row_parse(json_t *o, struct backlog_row *r, const char **domain_r)
{
	json_t		*d = json_object_get(o, "domain");
	json_t		*t = json_object_get(o, "total");
	const char	*s;
	size_t		 i;

	if (!json_is_string(d) || !json_is_integer(t) ||
	    json_integer_value(t) < 0 ||
	    backlog_counts_parse(json_object_get(o, "age"), r->age,
	    BACKLOG_AGE_BUCKETS) == -1 ||
	    backlog_counts_parse(json_object_get(o, "deadline"), r->deadline,
	    BACKLOG_DEADLINE_BUCKETS) == -1)
		return -1;
	s = json_string_value(d);
	/* what backlog_domain makes: printable ASCII, not empty, bounded */
	if (json_string_length(d) == 0 ||
	    json_string_length(d) > BACKLOG_DOMAIN_MAX)
		return -1;
	for (i = 0; i < json_string_length(d); i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return -1;
	r->total = (unsigned long)json_integer_value(t);
	*domain_r = s;
	return 0;
}

struct backlog *
backlog_from_json(json_t *o, char **err_r)
{
	struct backlog	*b;
	struct backlog_entry *e;
	struct backlog_row r;
	json_t		*now, *by, *rows, *row;
	const char	*domain;
	size_t		 i;
	int		 kind;

	now = json_object_get(o, "now");
	by = json_object_get(o, "by");
	rows = json_object_get(o, "rows");
	if (!json_is_integer(now) || !json_is_string(by) ||
	    (kind = backlog_by_lookup(json_string_value(by))) < 0 ||
	    !json_is_array(rows) || json_array_size(rows) == 0) {
		*err_r = xstrdup("a backlog without its \"now\", \"by\" "
		    "or \"rows\"");
		return NULL;
	}
	b = backlog_new(kind, (time_t)json_integer_value(now));
	json_array_foreach(rows, i, row) {
		memset(&r, 0, sizeof(r));
		if (backlog_row_parse(row, &r, &domain) == -1 ||
		    (i == 0) != (strcmp(domain, BACKLOG_TOTAL) == 0)) {
			*err_r = xasprintf("backlog row %zu is malformed", i);
			goto fail;
		}
		if (i == 0) {
			r.domain = BACKLOG_TOTAL;
			b->total = r;
			continue;
		}
		e = backlog_entry(b, domain);
		if (e->row.total != 0 || r.total == 0) {
			*err_r = xasprintf("backlog row %zu: \"%s\" is "
			    "repeated or empty", i, e->row.domain);
			goto fail;
		}
		r.domain = e->row.domain;
		e->row = r;
		b->sorted = 0;
	}
	return b;
fail:
	backlog_free(&b);
	return NULL;
}
