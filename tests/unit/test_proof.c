/*
 * test_proof.c - ebb's proof of a hold: the header, its check, the search
 *
 * The header's value against a known answer (HMAC-SHA256 computed
 * elsewhere), a table of values the check must refuse, the search over
 * streams cut into chunks of every awkward size with the header at every
 * offset around the window's edge, decoys that look like the header, and
 * the key file: made once, 0600, refused when its mode or size is wrong.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/proof.h"
#include "ebb/util.h"

#define ID	"3F1C2A7B"
#define T0	1765000000
/* HMAC-SHA256(key 00..1f, "ebb-parked v1\n3F1C2A7B\n1765000000\n") */
#define H0	"42fba01f9c865ee686637d9f02e17867" \
		"c3fc7c7e168cc89d41e14fd27903d180"
#define GOOD	"v1 t=1765000000 h=" H0

static struct proof_key key;

static int
setup(void **state)
{
	size_t	 i;

	(void)state;
	for (i = 0; i < PROOF_KEY_LEN; i++)
		key.k[i] = (unsigned char)i;
	return 0;
}

static void
test_value_known_answer(void **state)
{
	char	 buf[PROOF_VALUE_MAX];

	(void)state;
	assert_int_equal(proof_value(&key, ID, T0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, GOOD);
	/* refused: a bad id, a negative time, a buffer too small */
	assert_int_equal(proof_value(&key, "3F1C;2A7B", T0, buf,
	    sizeof(buf)), -1);
	assert_int_equal(proof_value(&key, ID, -1, buf, sizeof(buf)), -1);
	assert_int_equal(proof_value(&key, ID, T0, buf, 40), -1);
}

struct vcase {
	const char	*name;
	const char	*id;
	time_t		 arrival;
	const char	*value;
	int		 want;
};

static const struct vcase vcases[] = {
	{ "good", ID, T0, GOOD, 1 },
	{ "leading blanks", ID, T0, " \t " GOOD, 1 },
	{ "trailing bytes", ID, T0, GOOD "\r\nX", 1 },
	{ "held just after arrival", ID, T0 - PROOF_LATE, GOOD, 1 },
	{ "clock a little behind", ID, T0 + PROOF_EARLY, GOOD, 1 },
	{ "copied to a later message", ID, T0 - PROOF_LATE - 1, GOOD, 0 },
	{ "made before arrival", ID, T0 + PROOF_EARLY + 1, GOOD, 0 },
	{ "no arrival time", ID, 0, GOOD, 0 },
	{ "another queue id", "3F1C2A7C", T0, GOOD, 0 },
	{ "an invalid id", "3F1C 2A7B", T0, GOOD, 0 },
	{ "another t", ID, T0, "v1 t=1765000001 h=" H0, 0 },
	{ "leading zero in t", ID, T0, "v1 t=01765000000 h=" H0, 0 },
	{ "one digit of h changed", ID, T0, "v1 t=1765000000 h="
	    "42fba01f9c865ee686637d9f02e17867"
	    "c3fc7c7e168cc89d41e14fd27903d181", 0 },
	{ "h in upper case", ID, T0, "v1 t=1765000000 h="
	    "42FBA01F9C865EE686637D9F02E17867"
	    "C3FC7C7E168CC89D41E14FD27903D180", 0 },
	{ "h cut short", ID, T0, "v1 t=1765000000 h="
	    "42fba01f9c865ee686637d9f02e17867c3fc7c7e168cc89d41e14fd27903d18",
	    0 },
	{ "another version", ID, T0, "v2 t=1765000000 h=" H0, 0 },
	{ "no version", ID, T0, "t=1765000000 h=" H0, 0 },
	{ "no t", ID, T0, "v1 t= h=" H0, 0 },
	{ "t of 19 digits", ID, T0, "v1 t=1000000000000000000 h=" H0, 0 },
	{ "no h", ID, T0, "v1 t=1765000000", 0 },
	{ "two blanks before h", ID, T0, "v1 t=1765000000  h=" H0, 0 },
	{ "empty", ID, T0, "", 0 },
};

static void
run_vcase(void **state)
{
	const struct vcase *c = *state;

	assert_int_equal(proof_check_value(&key, c->id, c->arrival, c->value,
	    strlen(c->value)), c->want);
}

/* the header as Postfix stores it: a record type byte, a length, the text */
static size_t
record(char *buf, size_t size, const char *value)
{
	int	 n;

	n = snprintf(buf + 2, size - 2, "%s: %s", PROOF_HEADER, value);
	buf[0] = 'N';
	buf[1] = (char)n;
	return (size_t)n + 2;
}

/*
 * stream - len bytes of filler with decoys (the header's name, then
 * junk; a valid header for another id), the header rec at offset at
 * (none when rec is NULL)
 */
static char *
stream(size_t len, size_t at, const char *rec, size_t reclen)
{
	static const char *decoys[] = {
		PROOF_HEADER ": v1 t=1765000000 h=0000",
		PROOF_HEADER ":",
		PROOF_HEADER ": v1 t=1765000000 h=" "42fba01f9c865ee68663"
		    "7d9f02e17867c3fc7c7e168cc89d41e14fd27903d18",
	};
	char	*s = xmalloc(len);
	size_t	 i, d, off;

	for (i = 0; i < len; i++)
		s[i] = (char)('a' + i % 26);
	for (off = 37, d = 0; off + 120 < len; off += 5003, d++)
		memcpy(s + off, decoys[d % nitems(decoys)],
		    strlen(decoys[d % nitems(decoys)]));
	if (rec != NULL)
		memcpy(s + at, rec, reclen);
	return s;
}

/* search - feed s[0..len) in chunks of chunk bytes; the answer */
static int
search(struct proof_search *ps, const char *s, size_t len, size_t chunk,
    time_t arrival)
{
	size_t	 off, n;

	proof_search_begin(ps, ID, arrival);
	for (off = 0; off < len; off += n) {
		n = MINIMUM(chunk, len - off);
		if (proof_search_feed(ps, s + off, n))
			return 1;
	}
	return proof_search_end(ps);
}

static void
test_search_straddles(void **state)
{
	static const size_t chunks[] = { 1, 2, 7, 100, 127, 128, 129, 4096,
	    16383, 16384, 16385, 16512, 65536, 1 << 20 };
	/* the window's edges: it looks at 16385 new starts per round */
	static const long edges[] = { 0, 16385, 2 * 16385, 3 * 16385,
	    16384 + 128, 65536 };
	struct proof_search *ps = proof_search_new(&key);
	char	 rec[PROOF_LINE_MAX + 8];
	size_t	 reclen, len = 100000, c, e, at, found, runs = 0;
	long	 delta;
	char	*s;

	(void)state;
	reclen = record(rec, sizeof(rec), GOOD);
	for (e = 0; e < nitems(edges); e++) {
		for (delta = -(long)reclen - 2; delta <= 2; delta++) {
			if (edges[e] + delta < 0)
				continue;
			at = (size_t)(edges[e] + delta);
			s = stream(len, at, rec, reclen);
			for (c = 0; c < nitems(chunks); c++, runs++) {
				found = (size_t)search(ps, s, len, chunks[c],
				    T0);
				if (found != 1)
					fail_msg("header at %zu, chunks of %zu:"
					    " not found", at, chunks[c]);
			}
			free(s);
		}
	}
	/* the header the very last bytes of the stream */
	s = stream(len, len - reclen, rec, reclen);
	for (c = 0; c < nitems(chunks); c++)
		assert_int_equal(search(ps, s, len, chunks[c], T0), 1);
	/* ... and cut by the end of the file: not a proof */
	for (c = 0; c < nitems(chunks); c++)
		assert_int_equal(search(ps, s, len - 1, chunks[c], T0), 0);
	free(s);
	assert_true(runs > 1000);
	proof_search_free(&ps);
	assert_null(ps);
}

static void
test_search_refuses(void **state)
{
	static const size_t chunks[] = { 1, 13, 4096, 1 << 20 };
	struct proof_search *ps = proof_search_new(&key);
	char	 rec[PROOF_LINE_MAX + 8], other[PROOF_VALUE_MAX];
	size_t	 reclen, len = 70000, c;
	char	*s;

	(void)state;
	/* decoys only */
	s = stream(len, 0, NULL, 0);
	for (c = 0; c < nitems(chunks); c++)
		assert_int_equal(search(ps, s, len, chunks[c], T0), 0);
	free(s);
	/* a valid header, for another queue id */
	assert_int_equal(proof_value(&key, "3F1C2A7C", T0, other,
	    sizeof(other)), 0);
	reclen = record(rec, sizeof(rec), other);
	s = stream(len, 30000, rec, reclen);
	for (c = 0; c < nitems(chunks); c++)
		assert_int_equal(search(ps, s, len, chunks[c], T0), 0);
	free(s);
	/* ours, but of an earlier message with the same id */
	reclen = record(rec, sizeof(rec), GOOD);
	s = stream(len, 30000, rec, reclen);
	for (c = 0; c < nitems(chunks); c++) {
		assert_int_equal(search(ps, s, len, chunks[c],
		    T0 + 2 * PROOF_LATE), 0);
		/* begin forgets: the same search finds it for its arrival */
		assert_int_equal(search(ps, s, len, chunks[c], T0), 1);
	}
	free(s);
	/* an empty file */
	proof_search_begin(ps, ID, T0);
	assert_int_equal(proof_search_end(ps), 0);
	proof_search_free(&ps);
}

/*
 * keyless - what a search without the key keeps of s[0..len), fed in
 * chunks of chunk bytes: how many candidates, and how many of them the
 * key's holder finds valid for ID; the search itself never finds
 */
static size_t
keyless(struct proof_search *ps, const char *s, size_t len, size_t chunk,
    size_t *valid_r)
{
	const char	*v;
	size_t		 off, n, i, vlen;

	proof_search_begin(ps, ID, T0);
	for (off = 0; off < len; off += n) {
		n = MINIMUM(chunk, len - off);
		assert_int_equal(proof_search_feed(ps, s + off, n), 0);
	}
	assert_int_equal(proof_search_end(ps), 0);
	*valid_r = 0;
	for (i = 0; proof_search_candidate(ps, i, &v, &vlen) == 0; i++) {
		assert_true(vlen <= PROOF_LINE_MAX);
		*valid_r += (size_t)proof_check_value(&key, ID, T0, v, vlen);
	}
	return i;
}

/*
 * without the key (ebbd's scanner): the header is kept wherever it lies
 * and however the stream is cut, beside the decoys of its shape (the one
 * with 63 hex digits and a letter), and checks with the key; the ring
 * keeps the last PROOF_CANDIDATES, so the header after 20 fakes of its
 * shape is kept, and before them (never where ebb's milter puts it) lost
 */
static void
test_search_keyless(void **state)
{
	static const size_t chunks[] = { 1, 7, 128, 16385, 1 << 20 };
	static const size_t ats[] = { 0, 16385 - 20, 50000, 99000 };
	struct proof_search *ps = proof_search_new(NULL);
	char	 rec[PROOF_LINE_MAX + 8], fake[PROOF_LINE_MAX + 8];
	size_t	 reclen, fakelen, len = 100000, c, a, n, valid, i;
	char	*s;

	(void)state;
	reclen = record(rec, sizeof(rec), GOOD);
	for (a = 0; a < nitems(ats); a++) {
		s = stream(len, ats[a], rec, reclen);
		for (c = 0; c < nitems(chunks); c++) {
			n = keyless(ps, s, len, chunks[c], &valid);
			if (valid != 1 || n < 2 || n > PROOF_CANDIDATES)
				fail_msg("header at %zu, chunks of %zu: %zu "
				    "candidates, %zu valid", ats[a],
				    chunks[c], n, valid);
		}
		free(s);
	}
	/* decoys only: candidates, none valid */
	s = stream(len, 0, NULL, 0);
	n = keyless(ps, s, len, 4096, &valid);
	assert_true(n >= 1);
	assert_int_equal(valid, 0);
	free(s);

	/* 20 fakes of the header's shape, then the header; then before */
	fakelen = record(fake, sizeof(fake), "v1 t=1765000000 h="
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000000");
	s = xmalloc(21 * PROOF_LINE_MAX);
	for (i = 0; i < 20; i++)
		memcpy(s + i * fakelen, fake, fakelen);
	memcpy(s + 20 * fakelen, rec, reclen);
	n = keyless(ps, s, 20 * fakelen + reclen, 64, &valid);
	assert_int_equal(n, PROOF_CANDIDATES);
	assert_int_equal(valid, 1);
	memcpy(s, rec, reclen);
	for (i = 0; i < 20; i++)
		memcpy(s + reclen + i * fakelen, fake, fakelen);
	n = keyless(ps, s, 20 * fakelen + reclen, 64, &valid);
	assert_int_equal(n, PROOF_CANDIDATES);
	assert_int_equal(valid, 0);
	free(s);
	proof_search_free(&ps);
}

/* put - a key file of len bytes and mode */
static void
put(const char *dir, size_t len, mode_t mode)
{
	char	 path[512], buf[64];
	int	 fd;

	memset(buf, 'k', sizeof(buf));
	snprintf(path, sizeof(path), "%s/%s", dir, PROOF_KEY_FILE);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_key_file(void **state)
{
	struct proof_key a, b;
	struct stat	 sb;
	char		 dir[] = "/tmp/test_proof.XXXXXX", path[512];
	char		*err = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, PROOF_KEY_FILE);
	assert_int_equal(proof_key_load(dir, &a, &err), 1);
	/* made once, 0600, and the same key read back */
	assert_int_equal(proof_key_make(dir, &a, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, PROOF_KEY_LEN);
	assert_int_equal(proof_key_make(dir, &b, &err), 0);
	assert_memory_equal(a.k, b.k, PROOF_KEY_LEN);
	assert_int_equal(proof_key_load(dir, &b, &err), 0);
	assert_memory_equal(a.k, b.k, PROOF_KEY_LEN);
	/* readable by others: refused, and not replaced */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(proof_key_make(dir, &b, &err), -1);
	assert_non_null(strstr(err, "mode 640"));
	free(err);
	err = NULL;
	/* the wrong size */
	put(dir, PROOF_KEY_LEN - 1, 0600);
	assert_int_equal(proof_key_load(dir, &b, &err), -1);
	assert_non_null(strstr(err, "damaged"));
	free(err);
	err = NULL;
	put(dir, PROOF_KEY_LEN, 0400);
	assert_int_equal(proof_key_load(dir, &b, &err), 0);
	/* a symbolic link is not followed */
	unlink(path);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	assert_int_equal(proof_key_load(dir, &b, &err), -1);
	free(err);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_value_known_answer),
		cmocka_unit_test(test_search_straddles),
		cmocka_unit_test(test_search_refuses),
		cmocka_unit_test(test_search_keyless),
		cmocka_unit_test(test_key_file),
	};
	struct CMUnitTest tests[nitems(vcases) + nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(plain); i++, n++)
		tests[n] = plain[i];
	for (i = 0; i < nitems(vcases); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = vcases[i].name;
		tests[n].test_func = run_vcase;
		tests[n].initial_state = (void *)&vcases[i];
	}
	return _cmocka_run_group_tests("proof", tests, n, setup, NULL);
}
