/*
 * proof.h - ebb's proof that it put a held message in hold
 *
 * ebb releases only what it parked. What the drain parks is in the ledger
 * before the MTA moves it; what the milter holds is recorded by the
 * parent only after the MTA has moved it, so a notice can be lost (a
 * stop, a crash) or forged (anyone who reaches the milter socket can name
 * any queue id). So the milter also writes the proof into the message
 * itself, as one header added at the end of the message:
 *
 *	X-Ebb-Parked: v1 t=1765000000 h=<64 hex digits>
 *
 * t is the milter's clock at the end of the message (epoch seconds), h
 * is HMAC-SHA256 under a key only ebbd's processes hold (proof_key.c)
 * over "ebb-parked v1", the queue id and t, each line ended by a newline.
 * Only ebb can make h for a queue id, and a copy of a header ebb added to
 * an earlier message (headers travel with the mail) does not prove a
 * later message with the same queue id (Postfix's short ids are reused):
 * t must fall within PROOF_EARLY seconds before and PROOF_LATE seconds
 * after the arrival time the queue file records.
 *
 * The check reads the queue file as it lies on disk (the MTA backend's
 * proof op, mta.h) and looks for the header's bytes anywhere in it: the
 * backend's record framing does not matter, a header is stored whole in
 * one record (Postfix) or one line (Sendmail's qf H lines), and no one but
 * ebb can write a valid h. struct proof_search does the looking over a
 * stream of chunks, so a header that straddles two reads is found.
 *
 * Pure but for the HMAC (OpenSSL's libcrypto): no I/O, no clock.
 */
#ifndef EBB_PROOF_H
#define EBB_PROOF_H

#include <stddef.h>
#include <time.h>

#define PROOF_HEADER	"X-Ebb-Parked"
#define PROOF_VERSION	"v1"
#define PROOF_KEY_LEN	32		/* bytes of the HMAC key */
#define PROOF_VALUE_MAX	128		/* a header value, NUL included */
#define PROOF_LINE_MAX	128		/* a header as stored, at most */
#define PROOF_EARLY	60		/* seconds t may precede arrival */
#define PROOF_LATE	3600		/* seconds t may follow arrival */
#define PROOF_FILE_MAX	(64L * 1024 * 1024) /* a queue file read, bytes */
#define PROOF_CANDIDATES 16		/* kept by a search without the key */

struct proof_key {
	unsigned char	 k[PROOF_KEY_LEN];
};

/* what a check of one message found */
enum proof_result {
	PROOF_ERROR = -1,	/* could not be read: unproven */
	PROOF_NONE = 0,		/* read, no valid proof: not ebb's */
	PROOF_OK = 1		/* ebb held it */
};

/*
 * proof_value - the header's value for queue id held at t, into
 * buf[0..size) (PROOF_VALUE_MAX is enough). Returns 0, or -1 when id is
 * not a valid queue id, t is negative or buf too small.
 */
int	 proof_value(const struct proof_key *key, const char *id, time_t t,
	    char *buf, size_t size);

/*
 * proof_check_value - is value (len bytes, the header's value after the
 * colon, leading blanks allowed) a proof for id in a queue file whose
 * arrival time is arrival? 1 or 0.
 */
int	 proof_check_value(const struct proof_key *key, const char *id,
	    time_t arrival, const char *value, size_t len);

struct proof_search;

/*
 * proof_search_new - a search under key (copied); never NULL. With key
 * NULL, a search for a process that must not hold the key (ebbd's
 * scanner): it never finds, but keeps the last PROOF_CANDIDATES values
 * of the header's shape (tag, t within the window of the arrival time,
 * the hex's length) for proof_search_candidate, to be checked with
 * proof_check_value by the key's holder. The real header is appended
 * after the message, so a message's own fakes come before it.
 */
struct proof_search *proof_search_new(const struct proof_key *key);

/* proof_search_free - free *psp (wiping its key) and set it NULL */
void	 proof_search_free(struct proof_search **psp);

/*
 * proof_search_begin - start looking for a proof for id (valid, copied)
 * in a file whose arrival time is arrival; forgets any earlier search
 */
void	 proof_search_begin(struct proof_search *, const char *id,
	    time_t arrival);

/*
 * proof_search_feed - the next len bytes of the file, in any chunks.
 * Returns 1 once a valid proof has been seen (the caller may stop
 * reading), else 0.
 */
int	 proof_search_feed(struct proof_search *, const void *buf,
	    size_t len);

/* proof_search_end - the file ended: 1 when it holds a valid proof */
int	 proof_search_end(struct proof_search *);

/* proof_search_arrival - the arrival time of the last begin */
time_t	 proof_search_arrival(const struct proof_search *);

/*
 * proof_search_candidate - the i-th value kept by a search without the
 * key since its begin, oldest first: *value_r (not NUL-terminated, at
 * most PROOF_LINE_MAX bytes) and *len_r; -1 past the last
 */
int	 proof_search_candidate(const struct proof_search *, size_t i,
	    const char **value_r, size_t *len_r);

/*
 * The key: STATE/proof.key (PROOF_KEY_FILE), PROOF_KEY_LEN random bytes,
 * a regular file of root's (the caller's effective user), mode 0600 or
 * stricter. ebbd's root parent makes it at start when it is missing and
 * hands it to the milter in memory, before the milter's process drops
 * its privileges; ebbctl's failsafe and adopt read it to check proofs.
 */
#define PROOF_KEY_FILE	"proof.key"

/*
 * proof_key_load - read the key of state directory dir into *key_r.
 * Returns 0; 1 when there is none (no proof can be checked); -1 and
 * *err_r (allocated) when it is not a regular file of the caller's, of
 * mode 0600 or stricter and exactly PROOF_KEY_LEN bytes, or unreadable.
 */
int	 proof_key_load(const char *dir, struct proof_key *key_r,
	    char **err_r);

/*
 * proof_key_make - proof_key_load, and when there is no key, make one:
 * random bytes written to a temporary file of mode 0600, synced and
 * renamed into place (the caller holds the drain lock, so no one races
 * it). Returns 0, or -1 and *err_r.
 */
int	 proof_key_make(const char *dir, struct proof_key *key_r,
	    char **err_r);

#endif
