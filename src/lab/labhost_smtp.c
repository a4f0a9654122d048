/*
 * labhost_smtp.c - ebb-labhost's SMTP sessions
 *
 * Just enough SMTP for Postfix's smtp client and test scripts: EHLO/HELO,
 * MAIL, RCPT, DATA, RSET, NOOP, VRFY, QUIT, in order, pipelined or not
 * (PIPELINING is not advertised). A message's body is not kept: only its
 * size is counted and two headers are picked up on the way, Message-ID and
 * X-Lab-Id, for the event log. At the final "." the message goes to
 * labhost_offer and the session waits, reading nothing, until the host
 * model delivers it (250), or answers 451 (busy) or 421 (down).
 *
 * Everything from the client is bounded before use: lines of LINE_MAX
 * bytes with their CRLF (RFC 5321's 1000; a longer one ends the session
 * with 500), at most size_max bytes of message (552 after the "."),
 * RCPT_MAX recipients, ERRORS_MAX bad commands, INPUT_MAX bytes read
 * ahead (the bufferevent stops reading there), IDLE_TIMEOUT seconds of
 * silence, conns_max connections (then 421 at once). Header values are
 * kept to LABHOST_ID_MAX bytes of printable ASCII.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "ebb/log.h"
#include "ebb/util.h"
#include "lab/labhost.h"

#define LINE_MAX_	1000		/* bytes, CRLF included */
#define INPUT_MAX	(16 * 1024)	/* read ahead at most */
#define RCPT_MAX	1000
#define ERRORS_MAX	10
#define IDLE_TIMEOUT	300		/* s, as Postfix's smtpd */
#define WRITE_TIMEOUT	60
#define HOSTNAME	"labhost.test"

enum conn_state {
	S_CMD,			/* reading commands */
	S_DATA,			/* reading the message */
	S_WAIT,			/* the host has the message: not read */
	S_CLOSING,		/* flushing a last reply */
	S_DEAD			/* closed; freed by smtp_reap */
};

/* which header a continuation line belongs to */
enum hdr { HDR_OTHER, HDR_MESSAGE_ID, HDR_LAB_ID };

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct labhost		*lab;
	struct bufferevent	*bev;
	enum conn_state		 state;
	int			 mail;		/* MAIL given */
	long			 rcpts;
	int			 errors;
	/* DATA */
	int			 in_headers;
	enum hdr		 last_hdr;
	size_t			 size;
	char			 message_id[LABHOST_ID_MAX + 1];
	char			 lab_id[LABHOST_ID_MAX + 1];
};

static void	 conn_read(struct bufferevent *, void *);

/* reply - one reply line */
static void
reply(struct conn *c, const char *text)
{
	evbuffer_add_printf(bufferevent_get_output(c->bev), "%s\r\n", text);
}

/* conn_kill - close now, without flushing; the struct goes at smtp_reap */
static void
conn_kill(struct conn *c)
{
	struct labhost	*lab = c->lab;

	if (c->state == S_DEAD)
		return;
	labhost_conn_gone(lab, c);
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->state = S_DEAD;
	TAILQ_REMOVE(&lab->conns, c, entry);
	TAILQ_INSERT_TAIL(&lab->dead, c, entry);
	lab->nconns--;
	event_active(lab->ev_reap, 0, 0);
}

/* conn_close - send the last reply, then close */
static void
conn_close(struct conn *c, const char *text)
{
	reply(c, text);
	c->state = S_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
}

/* reset - a new transaction */
static void
reset(struct conn *c)
{
	c->mail = 0;
	c->rcpts = 0;
}

/* timeouts - idle limits, or none while the host has the message */
static void
timeouts(struct conn *c, int on)
{
	const struct timeval	 idle = { IDLE_TIMEOUT, 0 };
	const struct timeval	 wr = { WRITE_TIMEOUT, 0 };

	bufferevent_set_timeouts(c->bev, on ? &idle : NULL, &wr);
}

/* keep_header - value (from a header line) into dst: trimmed, printable */
static void
keep_header(char *dst, const char *value, size_t len)
{
	size_t	 i, n = 0;

	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	for (i = 0; i < len && n < LABHOST_ID_MAX; i++)
		dst[n++] = value[i] > ' ' && value[i] < 0x7f ? value[i] :
		    value[i] == ' ' ? ' ' : '?';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* header_is - line starts with name (which ends in ':'), any case */
static int
header_is(const char *line, size_t len, const char *name)
{
	size_t	 n = strlen(name);

	return len >= n && strncasecmp(line, name, n) == 0;
}

/* header - one header line of the message */
static void
header(struct conn *c, const char *line, size_t len)
{
	char	*dst;

	if (line[0] == ' ' || line[0] == '\t') {	/* folded */
		dst = c->last_hdr == HDR_MESSAGE_ID ? c->message_id :
		    c->last_hdr == HDR_LAB_ID ? c->lab_id : NULL;
		if (dst != NULL && *dst == '\0')
			keep_header(dst, line, len);
		return;
	}
	c->last_hdr = HDR_OTHER;
	if (header_is(line, len, "Message-ID:") && *c->message_id == '\0') {
		keep_header(c->message_id, line + 11, len - 11);
		c->last_hdr = HDR_MESSAGE_ID;
	} else if (header_is(line, len, "X-Lab-Id:") && *c->lab_id == '\0') {
		keep_header(c->lab_id, line + 9, len - 9);
		c->last_hdr = HDR_LAB_ID;
	}
}

/* end_of_data - the final "." */
static void
end_of_data(struct conn *c)
{
	struct labhost	*lab = c->lab;
	const char	*lab_id = *c->lab_id != '\0' ? c->lab_id : NULL;
	const char	*msg_id;
	enum offer_result res;

	msg_id = *c->message_id != '\0' ? c->message_id : NULL;
	if (c->size > lab->size_max) {
		reset(c);
		c->state = S_CMD;
		reply(c, "552 5.3.4 Message too big");
		return;
	}
	res = labhost_offer(lab, c, lab_id, msg_id);
	if (c->state == S_DEAD)		/* dropped by a reboot: no reply */
		return;
	switch (res) {
	case OFFER_TAKEN:
		c->state = S_WAIT;
		timeouts(c, 0);
		break;
	case OFFER_BUSY:
		reset(c);
		c->state = S_CMD;
		reply(c, "451 4.3.2 Too busy, try again later");
		break;
	case OFFER_DOWN:
		conn_close(c, "421 4.3.2 " HOSTNAME " rebooting, closing");
		break;
	}
}

/* data_line - one line of the message (CRLF stripped) */
static void
data_line(struct conn *c, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.') {
		end_of_data(c);
		return;
	}
	if (len > 0 && line[0] == '.') {	/* dot-stuffed */
		line++;
		len--;
	}
	if (c->size <= c->lab->size_max)
		c->size += len + 2;
	if (!c->in_headers)
		return;
	if (len == 0)
		c->in_headers = 0;
	else
		header(c, line, len);
}

/* verb_is - the command line starts with verb and then ends or a space */
static int
verb_is(const char *line, size_t len, const char *verb)
{
	size_t	 n = strlen(verb);

	return len >= n && strncasecmp(line, verb, n) == 0 &&
	    (len == n || line[n] == ' ');
}

/* command - one command line (CRLF stripped, no NUL) */
static void
command(struct conn *c, const char *line, size_t len)
{
	char	 buf[128];

	if (verb_is(line, len, "EHLO") || verb_is(line, len, "HELO")) {
		if (len < 6) {
			reply(c, "501 5.5.4 Syntax: EHLO hostname");
			return;
		}
		reset(c);
		if (toupper((unsigned char)line[0]) == 'H') {
			reply(c, "250 " HOSTNAME);
			return;
		}
		snprintf(buf, sizeof(buf), "250-" HOSTNAME "\r\n"
		    "250-SIZE %zu\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES",
		    c->lab->size_max);
		reply(c, buf);
	} else if (len >= 10 && strncasecmp(line, "MAIL FROM:", 10) == 0) {
		if (c->mail) {
			reply(c, "503 5.5.1 Error: nested MAIL command");
			return;
		}
		c->mail = 1;
		c->rcpts = 0;
		reply(c, "250 2.1.0 Ok");
	} else if (len >= 8 && strncasecmp(line, "RCPT TO:", 8) == 0) {
		if (!c->mail)
			reply(c, "503 5.5.1 Error: need MAIL command");
		else if (c->rcpts >= RCPT_MAX)
			reply(c, "452 4.5.3 Error: too many recipients");
		else {
			c->rcpts++;
			reply(c, "250 2.1.5 Ok");
		}
	} else if (verb_is(line, len, "DATA")) {
		if (c->rcpts == 0) {
			reply(c, "503 5.5.1 Error: need RCPT command");
			return;
		}
		c->state = S_DATA;
		c->in_headers = 1;
		c->last_hdr = HDR_OTHER;
		c->size = 0;
		*c->message_id = *c->lab_id = '\0';
		reply(c, "354 End data with <CR><LF>.<CR><LF>");
	} else if (verb_is(line, len, "RSET")) {
		reset(c);
		reply(c, "250 2.0.0 Ok");
	} else if (verb_is(line, len, "NOOP")) {
		reply(c, "250 2.0.0 Ok");
	} else if (verb_is(line, len, "VRFY")) {
		reply(c, "252 2.0.0 Cannot VRFY");
	} else if (verb_is(line, len, "QUIT")) {
		conn_close(c, "221 2.0.0 Bye");
	} else if (++c->errors >= ERRORS_MAX) {
		conn_close(c, "421 4.7.0 " HOSTNAME " Error: too many errors");
	} else {
		reply(c, "502 5.5.2 Error: command not recognized");
	}
}

/* conn_read - the lines waiting in the input, while the state takes them */
static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	char			 line[LINE_MAX_];
	size_t			 eol_len, len;

	while (c->state == S_CMD || c->state == S_DATA) {
		eol = evbuffer_search_eol(in, NULL, &eol_len,
		    EVBUFFER_EOL_CRLF);
		if (eol.pos == -1) {
			if (evbuffer_get_length(in) >= LINE_MAX_)
				conn_close(c, "500 5.5.0 Error: line too long");
			return;
		}
		len = (size_t)eol.pos;
		if (len + eol_len > LINE_MAX_) {
			conn_close(c, "500 5.5.0 Error: line too long");
			return;
		}
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		if (c->state == S_DATA)
			data_line(c, line, len);
		else if (memchr(line, '\0', len) != NULL)
			command(c, "", 0);	/* a NUL: a bad command */
		else
			command(c, line, len);
	}
}

/* conn_write - the output went out: a closing session ends */
static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	if (c->state == S_CLOSING)
		conn_kill(c);
}

/* conn_event - end of file, error or timeout */
static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && c->state != S_CLOSING &&
	    (what & BEV_EVENT_READING)) {
		conn_close(c, "421 4.4.2 " HOSTNAME " Error: timeout exceeded");
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_kill(c);
}

/* turn_away - a connection we do not take: one line (or none), close */
static void
turn_away(evutil_socket_t fd, const char *text)
{
	if (text != NULL)
		(void)send(fd, text, strlen(text), MSG_NOSIGNAL | MSG_DONTWAIT);
	evutil_closesocket(fd);
}

/* on_accept - a new client: turned away while down or full */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct labhost	*lab = arg;
	struct conn	*c;

	if (!labhost_host_up(lab)) {	/* rebooting: nothing answers */
		labhost_log_refused(lab, "down");
		turn_away(fd, NULL);
		return;
	}
	if (lab->nconns >= lab->conns_max) {
		labhost_log_refused(lab, "connections");
		turn_away(fd, "421 4.7.0 " HOSTNAME
		    " Error: too many connections\r\n");
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->lab = lab;
	c->bev = bufferevent_socket_new(lab->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_warn("bufferevent_socket_new failed");
		evutil_closesocket(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&lab->conns, c, entry);
	lab->nconns++;
	c->state = S_CMD;
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, INPUT_MAX);
	timeouts(c, 1);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	reply(c, "220 " HOSTNAME " ESMTP ebb-labhost");
	log_debug("connection %ld open", lab->nconns);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	log_warn("accept: %s", strerror(errno));
}

int
smtp_listen(struct labhost *lab, const char *addr, char **err_r)
{
	struct sockaddr_storage	 ss;
	int			 sslen = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) == -1 || (ss.ss_family == AF_INET &&
	    ((struct sockaddr_in *)&ss)->sin_port == 0) ||
	    (ss.ss_family == AF_INET6 &&
	    ((struct sockaddr_in6 *)&ss)->sin6_port == 0)) {
		*err_r = xasprintf("--listen %s: not a numeric ADDR:PORT",
		    addr);
		return -1;
	}
	lab->listener = evconnlistener_new_bind(lab->base, on_accept, lab,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, sslen);
	if (lab->listener == NULL) {
		*err_r = xasprintf("cannot listen on %s: %s", addr,
		    strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(lab->listener, on_accept_error);
	return 0;
}

void
smtp_delivered(struct labhost *lab, struct conn *c, const char *lab_id)
{
	char	 buf[LABHOST_ID_MAX + 64];

	if (c->state != S_WAIT)
		log_panic("smtp_delivered: session not waiting");
	snprintf(buf, sizeof(buf), "250 2.0.0 Ok: delivered%s%s",
	    lab_id != NULL ? " " : "", lab_id != NULL ? lab_id : "");
	reply(c, buf);
	reset(c);
	c->state = S_CMD;
	timeouts(c, 1);
	/* what the client sent meanwhile, later: not inside the model */
	bufferevent_trigger(c->bev, EV_READ,
	    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

void
smtp_drop_all(struct labhost *lab)
{
	while (!TAILQ_EMPTY(&lab->conns))
		conn_kill(TAILQ_FIRST(&lab->conns));
}

void
smtp_reap(struct labhost *lab)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&lab->dead)) != NULL) {
		TAILQ_REMOVE(&lab->dead, c, entry);
		free(c);
	}
}

void
smtp_shutdown(struct labhost *lab)
{
	if (lab->listener != NULL)
		evconnlistener_free(lab->listener);
	lab->listener = NULL;
	smtp_drop_all(lab);
	smtp_reap(lab);
}
