/*
 * sendmail_qf.c - read a Sendmail queue control file (qf, hf), bounded
 *
 * The file is copied once into the parser's buffer, which then holds the
 * strings handed out: each logical record (a line and its continuation
 * lines) is cut out in place, its folds turned into spaces. Only records
 * that matter to ebb are checked closely; the others (I, A, $, Z, Q, ...)
 * only have to be well-formed lines, since Sendmail adds record types over
 * time and skipping a sound message for one would strand it unseen.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ebb/sendmail_qf.h"
#include "ebb/util.h"

struct sm_qf_parser {
	char		*buf;		/* the file, then the strings */
	size_t		 cap;
	const char	**rcpt;
	size_t		 rcpt_cap;
};

struct sm_qf_parser *
sm_qf_parser_new(void)
{
	return xcalloc(1, sizeof(struct sm_qf_parser));
}

void
sm_qf_parser_free(struct sm_qf_parser **pp)
{
	struct sm_qf_parser *p = *pp;

	if (p == NULL)
		return;
	free(p->buf);
	free(p->rcpt);
	free(p);
	*pp = NULL;
}

const char *
sm_qf_error_name(enum sm_qf_error e)
{
	switch (e) {
	case SM_QF_OK:
		return "ok";
	case SM_QF_TRUNCATED:
		return "truncated";
	case SM_QF_CORRUPT:
		break;
	}
	return "corrupt";
}

const char *
sm_qf_class_name(enum sm_qf_class c)
{
	static const char *const names[SM_QF_CLASS_COUNT] = {
		"normal", "urgent", "non-urgent", "dsn"
	};

	return (unsigned)c < SM_QF_CLASS_COUNT ? names[c] : "unknown";
}

/*
 * qf_number - a decimal number filling all of s (an optional "-" when
 * negative_ok); -1 when malformed or beyond 18 digits
 */
static int
qf_number(const char *s, int negative_ok, int64_t *v_r)
{
	int64_t		 v = 0;
	size_t		 i = 0, n;
	int		 neg = 0;

	if (negative_ok && s[0] == '-') {
		neg = 1;
		i++;
	}
	for (n = 0; s[i] >= '0' && s[i] <= '9'; i++, n++) {
		if (n == 18)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (n == 0 || s[i] != '\0')
		return -1;
	*v_r = neg ? -v : v;
	return 0;
}

/* qf_cut - cut s to SM_QF_VALUE_MAX bytes in place */
static const char *
qf_cut(char *s)
{
	if (strlen(s) > SM_QF_VALUE_MAX)
		s[SM_QF_VALUE_MAX] = '\0';
	return s;
}

/* qf_trim - skip leading blanks */
static char *
qf_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * qf_header - an H record "?flags?name: value" (the ?flags? part may be
 * absent, and a macro condition "?${macro}?" may sit in it); keep the
 * values that decide the timeout class. -1 when it has no name.
 */
static int
qf_header(char *s, struct sm_qf *qf)
{
	char		*name, *colon, *end;

	if (s[0] == '?') {
		if ((end = strchr(s + 1, '?')) == NULL)
			return -1;
		s = end + 1;
	}
	name = s;
	if ((colon = strchr(name, ':')) == NULL || colon == name)
		return -1;
	for (end = name; end < colon; end++)
		if (*end <= ' ' || *end == 0x7f)
			return -1;
	*colon = '\0';
	s = qf_trim(colon + 1);
	if (strcasecmp(name, "Precedence") == 0)
		qf->precedence = qf_cut(s);
	else if (strcasecmp(name, "Priority") == 0)
		qf->priority_hdr = qf_cut(s);
	else if (strcasecmp(name, "Content-Type") == 0)
		qf->content_type = qf_cut(s);
	return 0;
}

/* qf_sender - an S record: "<>" or "" is the null sender; strip <> */
static const char *
qf_sender(char *s)
{
	size_t		 n = strlen(s);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

/* qf_rcpt_add - keep one recipient address */
static void
qf_rcpt_add(struct sm_qf_parser *p, struct sm_qf *qf, const char *addr)
{
	if (qf->nrcpt == p->rcpt_cap) {
		p->rcpt_cap = p->rcpt_cap ? p->rcpt_cap * 2 : 16;
		p->rcpt = xreallocarray(p->rcpt, p->rcpt_cap,
		    sizeof(*p->rcpt));
	}
	p->rcpt[qf->nrcpt++] = addr;
}

/*
 * qf_record - check and keep one record (its type byte at rec[0]); seen[]
 * counts each type seen so far. Returns NULL or why it is corrupt.
 */
static const char *
qf_record(struct sm_qf_parser *p, struct sm_qf *qf, char *rec,
    unsigned seen[256])
{
	unsigned char	 type = (unsigned char)rec[0];
	char		*s = rec + 1, *colon;
	int64_t		 v;

	if (seen[type] > 0 && strchr("VTKNPSFMq", type) != NULL)
		return "a record that must appear once is repeated";
	seen[type]++;
	switch (type) {
	case 'V':
		if (qf_number(s, 0, &v) < 0 || v < 1 || v > SM_QF_VERSION_MAX)
			return "unknown version";
		qf->version = (int)v;
		break;
	case 'T':
		if (qf_number(s, 0, &v) < 0)
			return "malformed creation time (T)";
		qf->ctime = v;
		break;
	case 'K':
		if (qf_number(s, 0, &v) < 0)
			return "malformed last attempt (K)";
		qf->last_attempt = v;
		break;
	case 'N':
		if (qf_number(s, 0, &v) < 0 || v > 1000000000)
			return "malformed attempt count (N)";
		qf->attempts = (long)v;
		break;
	case 'P':
		if (qf_number(s, 1, &v) < 0)
			return "malformed priority (P)";
		qf->priority = v;
		break;
	case 'F':
		qf->response = strchr(s, 'r') != NULL;
		break;
	case 'M':
		qf->status = qf_cut(s);
		break;
	case 'q':
		qf->quarantined = 1;
		qf->quarantine = qf_cut(s);
		break;
	case 'S':
		qf->sender = qf_sender(s);
		break;
	case 'r':
		qf->nfinal++;
		break;
	case 'R':
		/* "flags:address"; the flags are letters */
		if ((colon = strchr(s, ':')) == NULL)
			return "recipient without flags (R)";
		for (; s < colon; s++)
			if (!isalpha((unsigned char)*s))
				return "malformed recipient flags (R)";
		s = colon + 1;
		if (*s == '\0')
			return "empty recipient (R)";
		qf_rcpt_add(p, qf, s);
		break;
	case 'H':
		if (qf_header(s, qf) < 0)
			return "malformed header (H)";
		qf->nheaders++;
		break;
	default:
		if (!isgraph(type))
			return "a record without a type";
		break;
	}
	return NULL;
}

enum sm_qf_error
sm_qf_parse(struct sm_qf_parser *p, const void *in, size_t len,
    struct sm_qf *qf, const char **why_r)
{
	unsigned	 seen[256];
	const char	*why;
	char		*rec, *nl, *end, *w;
	size_t		 line = 1, recline, max;
	int		 done = 0;

	memset(qf, 0, sizeof(*qf));
	memset(seen, 0, sizeof(seen));
	*why_r = NULL;
	if (len > SM_QF_FILE_MAX) {
		*why_r = "larger than any control file";
		return SM_QF_CORRUPT;
	}
	if (len + 1 > p->cap) {
		free(p->buf);
		p->cap = len + 1 < 4096 ? 4096 : len + 1;
		p->buf = xmalloc(p->cap);
	}
	if (len > 0)
		memcpy(p->buf, in, len);
	p->buf[len] = '\0';
	if (memchr(p->buf, '\0', len) != NULL) {
		qf->error_line = 1;
		for (w = p->buf; *w != '\0'; w++)
			if (*w == '\n')
				qf->error_line++;
		*why_r = "a NUL byte";
		return SM_QF_CORRUPT;
	}
	rec = p->buf;
	end = p->buf + len;
	while (rec < end) {
		recline = line;
		if (*rec == ' ' || *rec == '\t' || *rec == '\n') {
			qf->error_line = line;
			*why_r = *rec == '\n' ? "an empty line" :
			    "a continuation line without a record";
			return SM_QF_CORRUPT;
		}
		max = rec[0] == 'H' ? SM_QF_HEADER_MAX : SM_QF_LINE_MAX;
		/* the record: up to a newline not followed by a fold */
		for (nl = rec;; nl++) {
			if ((nl = memchr(nl, '\n', (size_t)(end - nl))) ==
			    NULL) {
				qf->error_line = line;
				*why_r = "the last line has no end";
				return SM_QF_TRUNCATED;
			}
			if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
				*nl = ' ';	/* unfold */
				line++;
				continue;
			}
			break;
		}
		*nl = '\0';
		line++;
		if ((size_t)(nl - rec) > max) {
			qf->error_line = recline;
			*why_r = "a record longer than the bound";
			return SM_QF_CORRUPT;
		}
		if (recline == 1 && rec[0] != 'V') {
			qf->error_line = 1;
			*why_r = "no version (V) line first";
			return SM_QF_CORRUPT;
		}
		if (rec[0] == '.' && rec[1] == '\0') {
			done = 1;
			break;
		}
		if ((why = qf_record(p, qf, rec, seen)) != NULL) {
			qf->error_line = recline;
			*why_r = why;
			return SM_QF_CORRUPT;
		}
		rec = nl + 1;
	}
	if (!done) {
		qf->error_line = line;
		*why_r = len == 0 ? "empty file" : "no end (\".\") line";
		return SM_QF_TRUNCATED;
	}
	if (seen['T'] == 0 || seen['S'] == 0) {
		qf->error_line = line;
		*why_r = seen['T'] == 0 ? "no creation time (T)" :
		    "no sender (S)";
		return SM_QF_CORRUPT;
	}
	qf->rcpt = p->rcpt;
	return SM_QF_OK;
}

/* stock_precedence - the Precedence values of Sendmail's stock .cf */
static int
stock_precedence(const char *name)
{
	static const struct {
		const char	*name;
		int		 value;
	} table[] = {
		{ "first-class", 0 }, { "special-delivery", 100 },
		{ "list", -30 }, { "bulk", -60 }, { "junk", -100 },
	};
	size_t		 i;

	for (i = 0; i < nitems(table); i++)
		if (strcasecmp(name, table[i].name) == 0)
			return table[i].value;
	return 0;
}

/*
 * is_dsn_report - a Content-Type of multipart/report with
 * report-type=delivery-status, loosely tokenized (blanks, quotes)
 */
static int
is_dsn_report(const char *ct)
{
	const char	*s = ct, *semi;
	char		 param[64];
	size_t		 n;

	s += strspn(s, " \t");
	if (strncasecmp(s, "multipart", 9) != 0)
		return 0;
	s += 9;
	s += strspn(s, " \t");
	if (*s++ != '/')
		return 0;
	s += strspn(s, " \t");
	if (strncasecmp(s, "report", 6) != 0)
		return 0;
	while ((semi = strchr(s, ';')) != NULL) {
		s = semi + 1;
		s += strspn(s, " \t");
		n = strcspn(s, " \t=;");
		if (n == 0 || n >= sizeof(param))
			continue;
		memcpy(param, s, n);
		param[n] = '\0';
		if (strcasecmp(param, "report-type") != 0)
			continue;
		s += n;
		s += strspn(s, " \t");
		if (*s++ != '=')
			return 0;
		s += strspn(s, " \t\"");
		return strncasecmp(s, "delivery-status", 15) == 0 &&
		    (s[15] == '\0' || strchr(" \t\";", s[15]) != NULL);
	}
	return 0;
}

enum sm_qf_class
sm_qf_class(const struct sm_qf *qf,
    int (*precedence_value)(void *, const char *), void *arg)
{
	enum sm_qf_class c = SM_QF_CLASS_NORMAL;
	int		 v;

	if (qf->precedence != NULL) {
		v = precedence_value != NULL ?
		    precedence_value(arg, qf->precedence) :
		    stock_precedence(qf->precedence);
		if (v < 0)
			c = SM_QF_CLASS_NONURGENT;
		else if (v > 0)
			c = SM_QF_CLASS_URGENT;
	}
	if (qf->content_type != NULL && is_dsn_report(qf->content_type))
		c = SM_QF_CLASS_DSN;
	if (qf->priority_hdr != NULL &&
	    strcasecmp(qf->priority_hdr, "urgent") == 0)
		c = SM_QF_CLASS_URGENT;
	else if (qf->priority_hdr != NULL &&
	    strcasecmp(qf->priority_hdr, "normal") == 0)
		c = SM_QF_CLASS_NORMAL;
	else if (qf->priority_hdr != NULL &&
	    strcasecmp(qf->priority_hdr, "non-urgent") == 0)
		c = SM_QF_CLASS_NONURGENT;
	else if (qf->response)
		c = SM_QF_CLASS_DSN;
	return c;
}
