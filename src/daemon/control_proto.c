/*
 * control_proto.c - parse and format the lines of ebbd's control protocol
 *
 * Pure: a request line in, a struct control_request out, and back. ebbd's
 * unprivileged child parses what ebbctl sends; ebbctl formats what it
 * sends with the same code. See control.h for the protocol.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/backlog.h"
#include "ebb/control.h"
#include "ebb/listing.h"
#include "ebb/log.h"
#include "ebb/util.h"

static const char *const control_names[CONTROL_COMMAND_COUNT] = {
	"status", "pause", "resume", "rate", "release", "hold", "failsafe",
	"note", "backlog", "list"
};

const char *
control_command_name(int command)
{
	if (command < 0 || command >= CONTROL_COMMAND_COUNT)
		return NULL;
	return control_names[command];
}

int
control_command_lookup(const char *name)
{
	int	 i;

	for (i = 0; i < CONTROL_COMMAND_COUNT; i++)
		if (strcmp(control_names[i], name) == 0)
			return i;
	return -1;
}

static int
fail(char **err_r, const char *why)
{
	*err_r = xstrdup(why);
	return -1;
}

/*
 * shown - at most 40 bytes of s for an error message, control bytes as
 * "?": the answer is one line, whatever a client sent
 */
static const char *
shown(const char *s, char buf[41])
{
	size_t	 i;

	for (i = 0; i < 40 && s[i] != '\0'; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	buf[i] = '\0';
	return buf;
}

/* parse_ids - the "ids" array of a release or hold */
static int
parse_ids(json_t *a, struct control_request *r, char **err_r)
{
	json_t		*v;
	const char	*id;
	char		 buf[41];
	size_t		 i;

	if (!json_is_array(a))
		return fail(err_r, "\"ids\" must be an array of queue ids");
	if (json_array_size(a) == 0)
		return fail(err_r, "\"ids\" is empty");
	if (json_array_size(a) > CONTROL_IDS_MAX) {
		*err_r = xasprintf("more than %d ids in one request",
		    CONTROL_IDS_MAX);
		return -1;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return fail(err_r, "\"ids\" must hold strings");
		id = json_string_value(v);
		if (strlen(id) >= MSG_QUEUE_ID_MAX || !ebb_queue_id_valid(id) ||
		    strlen(id) != json_string_length(v)) {
			*err_r = xasprintf("\"%s\" is not a queue id",
			    shown(id, buf));
			return -1;
		}
		ebb_strlcpy(r->ids[i], id, sizeof(r->ids[i]));
	}
	r->nids = json_array_size(a);
	return 0;
}

/* parse_note - the "text" of a note: a string, checked by note_check */
static int
parse_note(json_t *v, struct control_request *r, char **err_r)
{
	if (!json_is_string(v))
		return fail(err_r, "\"text\" must be a string");
	if (json_string_length(v) > CONTROL_NOTE_MAX) {
		*err_r = xasprintf("a note is at most %d bytes",
		    CONTROL_NOTE_MAX);
		return -1;
	}
	/* a NUL inside is caught by note_check: the lengths differ */
	memcpy(r->note, json_string_value(v), json_string_length(v));
	r->note[json_string_length(v)] = '\0';
	if (strlen(r->note) != json_string_length(v))
		return fail(err_r, "a note holds a NUL byte");
	return 0;
}

/* note_check - a note's text as control.h allows it */
static int
note_check(const struct control_request *r, char **err_r)
{
	size_t	 n = strnlen(r->note, sizeof(r->note));

	if (r->command != CONTROL_NOTE)
		return n == 0 ? 0 : fail(err_r, "unexpected note text");
	if (n == 0 || n > CONTROL_NOTE_MAX) {
		*err_r = xasprintf("a note must be 1 to %d bytes",
		    CONTROL_NOTE_MAX);
		return -1;
	}
	if (!ebb_text_line_valid(r->note, n))
		return fail(err_r, "a note must be one line of text: UTF-8, "
		    "no control characters");
	return 0;
}

/* is_query - backlog and list: answered from ebbd's index */
static int
is_query(int cmd)
{
	return cmd == CONTROL_BACKLOG || cmd == CONTROL_LIST;
}

/* queue_name_valid - a queue name as the MTAs spell them */
static int
queue_name_valid(const char *q, size_t len)
{
	size_t	 i;

	if (len == 0 || len >= CONTROL_QUEUE_MAX || strlen(q) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!((q[i] >= 'a' && q[i] <= 'z') ||
		    (q[i] >= '0' && q[i] <= '9') || q[i] == '-' || q[i] == '_'))
			return 0;
	return 1;
}

/*
 * parse_query - one member of a backlog or list request: 1 when key is
 * one of theirs (and taken, or -1 with *err_r), 0 when it is not
 */
static int
parse_query(const char *key, json_t *v, struct control_request *r,
    char **err_r)
{
	const char	*count = r->command == CONTROL_LIST ? "limit" : "top";
	const char	*order = r->command == CONTROL_LIST ? "sort" : "by";
	json_int_t	 max = r->command == CONTROL_LIST ? CONTROL_LIMIT_MAX :
			    CONTROL_TOP_MAX;

	if (strcmp(key, "queue") == 0) {
		if (!json_is_string(v) || !queue_name_valid(
		    json_string_value(v), json_string_length(v)))
			return fail(err_r, "\"queue\" must be a queue name");
		ebb_strlcpy(r->queue, json_string_value(v), sizeof(r->queue));
		return 1;
	}
	if (strcmp(key, order) == 0) {
		if (!json_is_string(v) || (r->order = r->command ==
		    CONTROL_LIST ? listing_sort_lookup(json_string_value(v)) :
		    backlog_by_lookup(json_string_value(v))) < 0) {
			*err_r = xasprintf("\"%s\" must be %s", order,
			    r->command == CONTROL_LIST ? "deadline, age or "
			    "size" : "rcpt-domain or sender-domain");
			return -1;
		}
		return 1;
	}
	if (strcmp(key, count) == 0) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > max) {
			*err_r = xasprintf("\"%s\" must be a whole number "
			    "0..%lld", count, (long long)max);
			return -1;
		}
		r->count = (long)json_integer_value(v);
		return 1;
	}
	return 0;
}

int
control_request_parse(const char *buf, size_t len, struct control_request *r,
    char **err_r)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	const char	*key;
	char		 what[41];
	size_t		 i;
	int		 rc = -1, cmd, q;

	memset(r, 0, sizeof(*r));
	if (len >= CONTROL_LINE_MAX)
		return fail(err_r, "request too long");
	if (len > 0 && memchr(buf, '\0', len) != NULL)
		return fail(err_r, "request holds a NUL byte");
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		/* jansson's text quotes the input near the error */
		for (i = 0; jerr.text[i] != '\0'; i++)
			if ((unsigned char)jerr.text[i] < 0x20 ||
			    jerr.text[i] == 0x7f)
				jerr.text[i] = '?';
		*err_r = xasprintf("not a JSON object: %s", jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		fail(err_r, "not a JSON object");
		goto out;
	}
	v = json_object_get(o, "command");
	if (!json_is_string(v)) {
		fail(err_r, "no \"command\"");
		goto out;
	}
	if ((cmd = control_command_lookup(json_string_value(v))) == -1) {
		*err_r = xasprintf("unknown command \"%s\"",
		    shown(json_string_value(v), what));
		goto out;
	}
	r->command = cmd;
	json_object_foreach(o, key, v) {
		if (strcmp(key, "command") == 0)
			continue;
		if (strcmp(key, "rate") == 0 && cmd == CONTROL_RATE) {
			if (!json_is_number(v)) {
				fail(err_r, "\"rate\" must be a number");
				goto out;
			}
			r->rate = json_number_value(v);
		} else if (strcmp(key, "ids") == 0 &&
		    (cmd == CONTROL_RELEASE || cmd == CONTROL_HOLD)) {
			if (parse_ids(v, r, err_r) == -1)
				goto out;
		} else if (strcmp(key, "text") == 0 && cmd == CONTROL_NOTE) {
			if (parse_note(v, r, err_r) == -1)
				goto out;
		} else if (is_query(cmd) && (q = parse_query(key, v, r,
		    err_r)) != 0) {
			if (q == -1)
				goto out;
		} else {
			*err_r = xasprintf("unexpected \"%s\" in a %s "
			    "request", shown(key, what), control_names[cmd]);
			goto out;
		}
	}
	if (cmd == CONTROL_RATE && json_object_get(o, "rate") == NULL) {
		fail(err_r, "rate: no \"rate\"");
		goto out;
	}
	if (cmd == CONTROL_NOTE && json_object_get(o, "text") == NULL) {
		fail(err_r, "note: no \"text\"");
		goto out;
	}
	rc = control_request_check(r, err_r);
out:
	json_decref(o);
	return rc;
}

int
control_request_check(const struct control_request *r, char **err_r)
{
	size_t	 i;
	int	 want_ids;

	if (r->command < 0 || r->command >= CONTROL_COMMAND_COUNT)
		return fail(err_r, "unknown command");
	if (!isfinite(r->rate) || r->rate < 0 || r->rate > CONTROL_RATE_MAX ||
	    (r->command != CONTROL_RATE && r->rate != 0))
		return fail(err_r, "rate out of range");
	want_ids = r->command == CONTROL_RELEASE || r->command == CONTROL_HOLD;
	if (r->nids > CONTROL_IDS_MAX || (want_ids && r->nids == 0) ||
	    (!want_ids && r->nids != 0))
		return fail(err_r, "wrong number of queue ids");
	for (i = 0; i < r->nids; i++)
		if (memchr(r->ids[i], '\0', sizeof(r->ids[i])) == NULL ||
		    !ebb_queue_id_valid(r->ids[i])) {
			*err_r = xasprintf("\"%.*s\" is not a queue id",
			    (int)strnlen(r->ids[i], sizeof(r->ids[i])),
			    r->ids[i]);
			return -1;
		}
	if (note_check(r, err_r) == -1)
		return -1;
	if (!is_query(r->command))
		return r->queue[0] != '\0' || r->order != 0 || r->count != 0 ?
		    fail(err_r, "unexpected queue, order or count") : 0;
	if (memchr(r->queue, '\0', sizeof(r->queue)) == NULL ||
	    (r->queue[0] != '\0' &&
	    !queue_name_valid(r->queue, strlen(r->queue))))
		return fail(err_r, "not a queue name");
	if (r->command == CONTROL_LIST ? listing_sort_name(r->order) == NULL :
	    r->order != BACKLOG_BY_RCPT_DOMAIN &&
	    r->order != BACKLOG_BY_SENDER_DOMAIN)
		return fail(err_r, "unknown order");
	if (r->count < 0 || r->count > (r->command == CONTROL_LIST ?
	    CONTROL_LIMIT_MAX : CONTROL_TOP_MAX))
		return fail(err_r, "count out of range");
	return 0;
}

char *
control_request_format(const struct control_request *r)
{
	json_t	*o, *a;
	char	*s, *line;
	size_t	 i;

	o = json_pack("{ss}", "command", control_names[r->command]);
	if (r->command == CONTROL_RATE)
		json_object_set_new(o, "rate", json_real(r->rate));
	if (r->command == CONTROL_NOTE)
		json_object_set_new(o, "text", json_string(r->note));
	if (r->nids > 0) {
		a = json_array();
		for (i = 0; i < r->nids; i++)
			json_array_append_new(a, json_string(r->ids[i]));
		json_object_set_new(o, "ids", a);
	}
	if (is_query(r->command)) {
		if (r->queue[0] != '\0')
			json_object_set_new(o, "queue", json_string(r->queue));
		json_object_set_new(o, r->command == CONTROL_LIST ? "sort" :
		    "by", json_string(r->command == CONTROL_LIST ?
		    listing_sort_name(r->order) : backlog_by_name(r->order)));
		json_object_set_new(o, r->command == CONTROL_LIST ? "limit" :
		    "top", json_integer(r->count));
	}
	if ((s = json_dumps(o, JSON_COMPACT)) == NULL)
		log_fatal("out of memory");
	line = xstrdup(s);
	free(s);
	json_decref(o);
	return line;
}

char *
control_error_reply(const char *why)
{
	json_t	*o;
	char	*s, *line;

	o = json_pack("{sbss}", "ok", 0, "error", why);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		return xstrdup("{\"ok\":false,\"error\":\"internal error\"}");
	line = xstrdup(s);
	free(s);
	json_decref(o);
	return line;
}
