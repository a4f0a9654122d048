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

#include "ebb/control.h"
#include "ebb/log.h"
#include "ebb/util.h"

static const char *const control_names[CONTROL_COMMAND_COUNT] = {
	"status", "pause", "resume", "rate", "release", "hold", "failsafe",
	"note"
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

/* parse_ids - the "ids" array of a release or hold */
static int
parse_ids(json_t *a, struct control_request *r, char **err_r)
{
	json_t		*v;
	const char	*id;
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
			*err_r = xasprintf("\"%.40s\" is not a queue id", id);
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

int
control_request_parse(const char *buf, size_t len, struct control_request *r,
    char **err_r)
{
	json_error_t	 jerr;
	json_t		*o, *v;
	const char	*key;
	int		 rc = -1, cmd;

	memset(r, 0, sizeof(*r));
	if (len >= CONTROL_LINE_MAX)
		return fail(err_r, "request too long");
	if (len > 0 && memchr(buf, '\0', len) != NULL)
		return fail(err_r, "request holds a NUL byte");
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
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
		*err_r = xasprintf("unknown command \"%.40s\"",
		    json_string_value(v));
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
		} else {
			*err_r = xasprintf("unexpected \"%.40s\" in a %s "
			    "request", key, control_names[cmd]);
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
	return note_check(r, err_r);
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
