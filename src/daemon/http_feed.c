/*
 * http_feed.c - the incident timeline as an Atom feed (RFC 4287)
 *
 * Built from the history answer's "timeline" (parent_timeline.c: newest
 * first, each entry with its RFC 3339 time in the host's time zone), so
 * a feed reader or a chat bot follows what the status page shows. Every
 * text, the administrator's notes included, is XML-escaped here; the
 * ids are built from the title's safe characters and the entries' own
 * ledger ids, so they stay put across restarts.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ebb/timeline.h"
#include "ebb/util.h"
#include "http.h"

struct buf {
	char	*s;
	size_t	 len, size;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->size) {
		b->size = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->size, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* put_xml - s with the five characters XML gives meaning escaped */
static void
put_xml(struct buf *b, const char *s)
{
	size_t	 n;

	for (;;) {
		n = strcspn(s, "&<>\"'");
		put(b, s, n);
		switch (s[n]) {
		case '\0':
			return;
		case '&':
			puts_(b, "&amp;");
			break;
		case '<':
			puts_(b, "&lt;");
			break;
		case '>':
			puts_(b, "&gt;");
			break;
		case '"':
			puts_(b, "&quot;");
			break;
		default:
			puts_(b, "&apos;");
			break;
		}
		s += n + 1;
	}
}

/* id_base - "urn:ebb:status:" and the title's [A-Za-z0-9.-] */
static void
put_id_base(struct buf *b, const char *title)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
	char	 c[2] = { 0, 0 };

	puts_(b, "urn:ebb:status:");
	for (; *title != '\0'; title++)
		if (strchr(ok, *title) != NULL) {
			c[0] = *title;
			puts_(b, c);
		}
}

/* str - a member as a string, or "" */
static const char *
str(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

char *
http_feed(const char *history, const char *title, time_t now)
{
	struct buf	 b = { NULL, 0, 0 };
	json_t		*o, *a, *e;
	const char	*kt, *updated;
	char		 when[40], num[32];
	struct tm	 tm;
	size_t		 i;
	int		 kind;

	o = json_loads(history, JSON_REJECT_DUPLICATES, NULL);
	a = json_object_get(o, "timeline");
	if (!json_is_array(a))
		a = NULL;
	/* the newest entry's time, or now when there is none */
	updated = a != NULL && json_array_size(a) > 0 ?
	    str(json_array_get(a, 0), "iso") : "";
	if (*updated == '\0') {
		gmtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		updated = when;
	}
	puts_(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>");
	put_xml(&b, title);
	puts_(&b, ": mail delivery status</title>\n<id>");
	put_id_base(&b, title);
	puts_(&b, "</id>\n<updated>");
	put_xml(&b, updated);
	puts_(&b, "</updated>\n<author><name>");
	put_xml(&b, title);
	puts_(&b, "</name></author>\n");
	json_array_foreach(a, i, e) {
		if (!json_is_integer(json_object_get(e, "id")) ||
		    *str(e, "iso") == '\0')
			continue;
		kind = timeline_kind_lookup(str(e, "kind"));
		kt = timeline_kind_title(kind);
		puts_(&b, "<entry>\n<id>");
		put_id_base(&b, title);
		snprintf(num, sizeof(num), ":entry:%lld",
		    (long long)json_integer_value(json_object_get(e, "id")));
		puts_(&b, num);
		puts_(&b, "</id>\n<title>");
		put_xml(&b, kt != NULL ? kt : "Update");
		puts_(&b, "</title>\n<updated>");
		put_xml(&b, str(e, "iso"));
		puts_(&b, "</updated>\n<content type=\"text\">");
		put_xml(&b, str(e, "local"));
		puts_(&b, ": ");
		put_xml(&b, str(e, "text"));
		puts_(&b, "</content>\n</entry>\n");
	}
	puts_(&b, "</feed>\n");
	json_decref(o);
	return b.s;
}
