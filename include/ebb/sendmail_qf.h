/*
 * sendmail_qf.h - read a Sendmail queue control file (qf, hf), bounded
 *
 * A qf file is text: one record per line, the first byte its type, a line
 * starting with a space or a tab continuing the record before it (Sendmail
 * reads them folded, and writes its headers that way). Sendmail 8.12 and
 * later write version 8 ("V8") and end the file with a "." line; a file
 * is written as tf and renamed, so one without the "." was cut short. The
 * records read here:
 *
 *	V  version            T  creation time (the deadline's start)
 *	K  last attempt       N  attempts        P  Sendmail's priority
 *	F  flags ("r": a DSN) M  status text (the defer reason)
 *	q  quarantine reason (only in hf files)
 *	S  sender ("<>" is the null sender)
 *	r  final recipient (DSN data for the next R)
 *	R  "flags:address", a recipient still to be delivered. Sendmail
 *	   writes only the pending ones: a recipient once delivered is
 *	   dropped from the file, so done recipients are not there to count.
 *	H  "?flags?name: value", headers, folded over continuation lines
 *
 * The reader works on a buffer and its length (no NUL needed, nothing
 * past len is read), trusts no line of it, and copies what it keeps into
 * its own memory: every record is bounded (SM_QF_LINE_MAX, headers
 * SM_QF_HEADER_MAX), the whole file by SM_QF_FILE_MAX, and the header
 * values kept for the timeout class are cut at SM_QF_VALUE_MAX.
 */
#ifndef EBB_SENDMAIL_QF_H
#define EBB_SENDMAIL_QF_H

#include <stddef.h>
#include <stdint.h>

#define SM_QF_FILE_MAX		(16UL * 1024 * 1024)	/* larger: corrupt */
#define SM_QF_LINE_MAX		(64 * 1024)	/* one record, unfolded */
#define SM_QF_HEADER_MAX	(1024 * 1024)	/* one folded H record */
#define SM_QF_VALUE_MAX		256	/* header values kept, and M, q */
#define SM_QF_VERSION_MAX	8	/* Sendmail 8.12-8.18 write V8 */

/* why a file could not be read */
enum sm_qf_error {
	SM_QF_OK = 0,
	SM_QF_TRUNCATED,	/* no "." line, or a line without its end */
	SM_QF_CORRUPT		/* malformed, missing or repeated record */
};

/* the timeout classes of Timeout.queuereturn.CLASS */
enum sm_qf_class {
	SM_QF_CLASS_NORMAL,
	SM_QF_CLASS_URGENT,
	SM_QF_CLASS_NONURGENT,
	SM_QF_CLASS_DSN,
	SM_QF_CLASS_COUNT
};

/*
 * One parsed control file. Strings are NUL-terminated copies owned by the
 * parser, valid until its next parse or sm_qf_parser_free; a string not
 * in the file is NULL (status, quarantine, the header values).
 */
struct sm_qf {
	int		 version;	/* V */
	int64_t		 ctime;		/* T */
	int64_t		 last_attempt;	/* K, 0 if absent */
	long		 attempts;	/* N, 0 if absent */
	int64_t		 priority;	/* P, 0 if absent */
	int		 response;	/* F holds "r": a DSN or a bounce */
	int		 quarantined;	/* a q record is there */
	const char	*sender;	/* S without <>; "": the null sender */
	const char	*status;	/* M, cut at SM_QF_VALUE_MAX */
	const char	*quarantine;	/* q, cut at SM_QF_VALUE_MAX */
	const char	**rcpt;		/* R addresses, in file order */
	size_t		 nrcpt;
	size_t		 nfinal;	/* r records */
	size_t		 nheaders;	/* H records */
	const char	*precedence;	/* Precedence: value, cut */
	const char	*priority_hdr;	/* Priority: value, cut */
	const char	*content_type;	/* Content-Type: value, cut */
	size_t		 error_line;	/* 1-based line of the error, 0 none */
};

struct sm_qf_parser;

/* sm_qf_parser_new - a reusable parser (buffers grow as needed) */
struct sm_qf_parser *sm_qf_parser_new(void);

/* sm_qf_parser_free - free *pp and set it to NULL; NULL is fine */
void		 sm_qf_parser_free(struct sm_qf_parser **pp);

/*
 * sm_qf_parse - parse len bytes of a control file. Returns SM_QF_OK and
 * fills *qf, or an error with *why_r set to a static description and
 * qf->error_line to the line it was found on. The file must start with a
 * V line of a known version and hold exactly one T and one S record, and
 * end with a "." line; a NUL byte, an empty line, a record too long or a
 * malformed number, recipient or header is corrupt.
 */
enum sm_qf_error sm_qf_parse(struct sm_qf_parser *p, const void *buf,
		    size_t len, struct sm_qf *qf, const char **why_r);

/*
 * sm_qf_class - the timeout class Sendmail gives the message (as its
 * eatheader does): a Priority: header of urgent, normal or non-urgent
 * wins; else a DSN (multipart/report; report-type=delivery-status, or
 * the "r" flag); else the sign of the Precedence: value, which the
 * caller maps through the .cf's P lines (precedence_value; NULL: the
 * stock table, first-class 0, special-delivery 100, list -30, bulk -60,
 * junk -100, anything else 0).
 */
enum sm_qf_class sm_qf_class(const struct sm_qf *qf,
		    int (*precedence_value)(void *, const char *), void *arg);

/* sm_qf_class_name - "normal", "urgent", "non-urgent", "dsn" */
const char	*sm_qf_class_name(enum sm_qf_class);

/* sm_qf_error_name - "truncated", "corrupt" */
const char	*sm_qf_error_name(enum sm_qf_error);

#endif
