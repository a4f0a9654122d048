/*
 * postfix_cmd.c - the Postfix backend's use of Postfix's own commands
 *
 * park and release run "postsuper -c DIR -h -" and "-H -" with the queue
 * ids on standard input, up to PF_BATCH ids per run; waking the queue
 * manager runs "postkick -c DIR public qmgr D" once per batch. No shell is
 * involved and ids were validated by mta.c.
 *
 * The "scan = postqueue" mode fills the index from "postqueue -c DIR -j",
 * one JSON object per message, parsed with jansson. postqueue shows
 * neither create_time nor the next retry time: create_time falls back to
 * arrival_time (so the deadline is an estimate, early for a message that
 * was requeued) and next_retry is 0 (unknown). postqueue names the null
 * sender by empty_address_recipient ("MAILER-DAEMON"); it is mapped back to
 * "". Addresses come quoted as Postfix prints them (quote_822_local).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/exec.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "postfix.h"

#define PF_BATCH	5000		/* queue ids per postsuper run */
#define PF_TIMEOUT	120		/* seconds a command may take */

/* postfix_postsuper - run postsuper FLAG - over ids, in batches */
static int
postfix_postsuper(struct postfix *pf, const char *flag,
    const char *const *ids, size_t n, char **err_r)
{
	const char	*argv[] = { pf->postsuper, "-c", pf->config_dir, flag,
	    "-", NULL };
	struct exec_result res;
	char		*buf, *first;
	size_t		 i, j, len, cap;

	for (i = 0; i < n; i += PF_BATCH) {
		cap = 1;
		for (j = i; j < n && j < i + PF_BATCH; j++)
			cap += strlen(ids[j]) + 1;
		buf = xmalloc(cap);
		for (len = 0, j = i; j < n && j < i + PF_BATCH; j++) {
			size_t l = strlen(ids[j]);

			memcpy(buf + len, ids[j], l);
			buf[len + l] = '\n';
			len += l + 1;
		}
		if (exec_run(argv, buf, len, 0, PF_TIMEOUT, &res, err_r) < 0) {
			free(buf);
			exec_result_free(&res);
			return -1;
		}
		free(buf);
		if (res.status != 0) {
			first = exec_first_line(res.err);
			*err_r = xasprintf("postsuper %s: exit %d: %s", flag,
			    res.status, first);
			free(first);
			exec_result_free(&res);
			return -1;
		}
		exec_result_free(&res);
	}
	return 0;
}

int
postfix_park_ids(struct postfix *pf, const char *const *ids, size_t n,
    char **err_r)
{
	return postfix_postsuper(pf, "-h", ids, n, err_r);
}

int
postfix_release_ids(struct postfix *pf, const char *const *ids, size_t n,
    char **err_r)
{
	return postfix_postsuper(pf, "-H", ids, n, err_r);
}

/* postfix_wake_qmgr - "postkick public qmgr D": scan the deferred queue */
int
postfix_wake_qmgr(struct postfix *pf, char **err_r)
{
	const char	*argv[] = { pf->postkick, "-c", pf->config_dir,
	    "public", "qmgr", "D", NULL };
	struct exec_result res;
	char		*first;
	int		 rc = 0;

	if (exec_run(argv, NULL, 0, 0, PF_TIMEOUT, &res, err_r) == -1)
		rc = -1;
	else if (res.status != 0) {
		first = exec_first_line(res.err);
		*err_r = xasprintf("postkick public qmgr D: exit %d: %s "
		    "(is Postfix running?)", res.status, first);
		free(first);
		rc = -1;
	}
	exec_result_free(&res);
	return rc;
}

/*
 * postfix_json_msg - one postqueue -j object into the index: 0 when added,
 * 1 when not ours (maildrop), -1 when malformed
 */
static int
postfix_json_msg(struct postfix *pf, struct index *ix, json_t *o,
    const char ***rcpt, size_t *rcpt_cap)
{
	json_t		*rs, *r, *a;
	const char	*qname, *id, *sender;
	struct msg	 m;
	size_t		 i, n = 0;
	int		 queue;

	if (!json_is_object(o) ||
	    (qname = json_string_value(json_object_get(o, "queue_name"))) ==
	    NULL ||
	    (id = json_string_value(json_object_get(o, "queue_id"))) == NULL ||
	    (sender = json_string_value(json_object_get(o, "sender"))) ==
	    NULL ||
	    !json_is_integer(json_object_get(o, "arrival_time")) ||
	    !json_is_array(rs = json_object_get(o, "recipients")))
		return -1;
	if (strlen(id) >= MSG_QUEUE_ID_MAX || !ebb_queue_id_valid(id))
		return -1;
	if ((queue = pf_queue_lookup(qname)) < 0)
		return 1;		/* maildrop: not queued yet */
	if (json_array_size(rs) > *rcpt_cap) {
		*rcpt_cap = json_array_size(rs);
		*rcpt = xreallocarray(*rcpt, *rcpt_cap, sizeof(**rcpt));
	}
	json_array_foreach(rs, i, r) {
		if ((a = json_object_get(r, "address")) != NULL &&
		    json_is_string(a))
			(*rcpt)[n++] = json_string_value(a);
	}
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, id, sizeof(m.queue_id));
	m.queue = (uint8_t)queue;
	m.arrival_time = (time_t)json_integer_value(json_object_get(o,
	    "arrival_time"));
	m.create_time = m.arrival_time;		/* postqueue has no other */
	if (strcmp(sender, pf->empty_addr) == 0)
		sender = "";
	m.deadline = postfix_deadline(pf, m.create_time, sender[0] == '\0');
	m.size = (uint64_t)json_integer_value(json_object_get(o,
	    "message_size"));
	m.sender = sender;
	m.rcpt = *rcpt;
	m.nrcpt = (uint32_t)n;
	index_put(ix, &m, NULL);
	return 0;
}

int
postfix_scan_postqueue(struct postfix *pf, struct index *ix,
    struct scan_stats *st, char **err_r)
{
	const char	*argv[] = { pf->postqueue, "-c", pf->config_dir, "-j",
	    NULL };
	struct exec_result res;
	json_error_t	 jerr;
	json_t		*o;
	const char	**rcpt = NULL;
	char		*line, *end, *first;
	size_t		 rcpt_cap = 0;
	int		 rc;

	st->via_lister = 1;
	if (exec_run(argv, NULL, 0, 1, PF_TIMEOUT, &res, err_r) < 0) {
		exec_result_free(&res);
		return -1;
	}
	if (res.status != 0) {
		first = exec_first_line(res.err);
		*err_r = xasprintf("postqueue -c %s -j: exit %d: %s",
		    pf->config_dir, res.status, first);
		free(first);
		exec_result_free(&res);
		return -1;
	}
	index_scan_begin(ix);
	for (line = res.out; line < res.out + res.out_len; line = end + 1) {
		if ((end = memchr(line, '\n', res.out + res.out_len - line)) ==
		    NULL)
			end = res.out + res.out_len;
		if (end == line)
			continue;
		o = json_loadb(line, (size_t)(end - line), 0, &jerr);
		rc = o == NULL ? -1 : postfix_json_msg(pf, ix, o, &rcpt,
		    &rcpt_cap);
		if (rc < 0) {
			st->corrupt++;
			log_warn("postqueue -j: line skipped: %s", o == NULL ?
			    jerr.text : "not a message object");
		} else if (rc == 0) {
			st->files++;
			st->parsed++;
		}
		json_decref(o);
	}
	free(rcpt);
	exec_result_free(&res);
	st->removed = index_scan_end(ix);
	return 0;
}
