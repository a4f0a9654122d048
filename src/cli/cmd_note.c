/*
 * cmd_note.c - ebbctl note TEXT: the administrator's own entry in the
 * incident timeline
 *
 * The words the administrator used to post by hand on an outage blog
 * ("we are on it", "ask your senders to resend") go beside what ebbd
 * writes itself, on the status page and in its Atom feed. The arguments
 * are joined with spaces into one line; it is checked here (one line of
 * UTF-8 without control characters, at most CONTROL_NOTE_MAX bytes) and
 * again by ebbd, and escaped wherever it is shown. Exit 0; 64 on a usage
 * error; 69 when ebbd is not running; 1 when ebbd refused.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ebb/control.h"
#include "ebb/util.h"
#include "cmd.h"
#include "control_client.h"

static int	 cmd_note_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_note_entry = {
	"note", "TEXT...", "add your own entry to the status page's timeline",
	"  TEXT...      one line, at most 280 bytes; the words are joined "
	"with spaces\n",
	cmd_note_exec
};

static int
cmd_note_exec(struct ebbctl *ctl, int argc, char **argv)
{
	struct control_request r;
	json_t		*o;
	size_t		 n = 0, len;
	int		 i, rc;

	memset(&r, 0, sizeof(r));
	r.command = CONTROL_NOTE;
	if (argc < 2)
		return cmd_usage_error(&cmd_note_entry, "no text");
	for (i = 1; i < argc; i++) {
		len = strlen(argv[i]);
		if (n + (i > 1) + len > CONTROL_NOTE_MAX)
			return cmd_usage_error(&cmd_note_entry, "a note is at "
			    "most %d bytes", CONTROL_NOTE_MAX);
		if (i > 1)
			r.note[n++] = ' ';
		memcpy(r.note + n, argv[i], len);
		n += len;
	}
	r.note[n] = '\0';
	if (!ebb_text_line_valid(r.note, n))
		return cmd_usage_error(&cmd_note_entry, "a note must be one "
		    "line of text: UTF-8, no control characters");
	if ((rc = control_call(ctl->cfg, &r, &o)) != 0)
		return rc;
	if (ctl->json) {
		json_dumpf(o, stdout, JSON_COMPACT);
		putchar('\n');
	} else
		printf("noted\n");
	json_decref(o);
	return 0;
}
