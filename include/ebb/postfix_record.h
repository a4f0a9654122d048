/*
 * postfix_record.h - read the envelope of a Postfix queue file, bounded
 *
 * A Postfix queue file is a sequence of records: one type byte, a length as
 * a base-128 varint (low 7 bits first, 0x80 = more), then that many bytes of
 * data. The envelope (C, T, A, S, O, R, D ... M) comes first, then the
 * content (skipped here using the offsets of the C record), then the
 * extracted segment (X ... E). "p" records are pointers: a recipient added
 * by a milter lives after E and is reached only through them.
 *
 * The reader trusts nothing in the file: every length is bounded before use
 * (PF_REC_MAX), every offset is checked against the file size, and the total
 * number of bytes it may look at is bounded by the file size, so pointer
 * loops end in an error instead of a hang. It reads through a callback, one
 * window at a time (PF_READ_FIRST bytes first, which holds the whole
 * envelope of almost every file), so the same code serves files, unit tests
 * and the fuzzer.
 */
#ifndef EBB_POSTFIX_RECORD_H
#define EBB_POSTFIX_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PF_REC_MAX	(1024 * 1024)	/* longest record data we accept */
#define PF_READ_FIRST	4096		/* the first read of every file */
#define PF_FILE_MAX	((uint64_t)1 << 40)	/* larger is not a queue file */

/* record types used here (Postfix's src/global/rec_type.h) */
#define PF_REC_SIZE	'C'
#define PF_REC_TIME	'T'
#define PF_REC_CTIME	'c'
#define PF_REC_ATTR	'A'
#define PF_REC_FROM	'S'
#define PF_REC_ORCP	'O'
#define PF_REC_RCPT	'R'
#define PF_REC_DONE	'D'
#define PF_REC_DRCP	'/'
#define PF_REC_MESG	'M'
#define PF_REC_XTRA	'X'
#define PF_REC_END	'E'
#define PF_REC_PTR	'p'

/*
 * pf_read_fn - read up to len bytes at offset off into buf. Returns the
 * number of bytes read (short only at end of file) or -1 on error.
 */
typedef ssize_t	(*pf_read_fn)(void *arg, void *buf, size_t len, uint64_t off);

/* why a file could not be read */
enum pf_error {
	PF_OK = 0,
	PF_ERR_TRUNCATED,		/* end of file before the E record */
	PF_ERR_CORRUPT,			/* malformed record, offset or order */
	PF_ERR_IO			/* the read callback failed */
};

/*
 * The envelope of one message. Strings are NUL-terminated copies owned by
 * the parser and valid until its next parse or pf_parser_free.
 */
struct pf_envelope {
	int64_t		 content_size;	/* C field 1: postqueue's size */
	int64_t		 data_offset;	/* C field 2: first content record */
	int64_t		 rcpt_total;	/* C field 3: recipients when created */
	int64_t		 content_length; /* C field 5, 0 if absent */
	int64_t		 arrival_time;	/* T record, seconds */
	int64_t		 arrival_usec;	/* T record, microseconds; 0 if
					   absent or out of range */
	int64_t		 create_time;	/* create_time=, else 0 */
	const char	*sender;	/* "" is the null sender */
	const char	**rcpt;		/* pending (R), in file order */
	size_t		 nrcpt;
	size_t		 ndone;		/* D and / records: done or canceled */
	unsigned	 npointers;	/* non-null p records followed */
	uint64_t	 error_offset;	/* where the error was found */
};

struct pf_parser;

/* pf_parser_new - a reusable parser (buffers grow as needed); never NULL */
struct pf_parser *pf_parser_new(void);

/* pf_parser_free - free *pp and set it to NULL; NULL is fine */
void		 pf_parser_free(struct pf_parser **pp);

/*
 * pf_parse - read the envelope of one queue file of file_size bytes through
 * read(arg, ...). Returns PF_OK and fills *env, or an enum pf_error with
 * *why_r set to a static description and env->error_offset set. The file
 * must hold C, T, S and E records; records are checked against the types
 * Postfix's queue manager expects in each segment.
 */
enum pf_error	 pf_parse(struct pf_parser *p, pf_read_fn read, void *arg,
		    uint64_t file_size, struct pf_envelope *env,
		    const char **why_r);

/* pf_parse_buffer - pf_parse over len bytes in memory */
enum pf_error	 pf_parse_buffer(struct pf_parser *p, const void *buf,
		    size_t len, struct pf_envelope *env, const char **why_r);

/* pf_error_name - "truncated", "corrupt", "read error" */
const char	*pf_error_name(enum pf_error);

#endif
