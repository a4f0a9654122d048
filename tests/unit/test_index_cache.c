/*
 * test_index_cache.c - the scan cache: what it keeps, which of its entries
 * a scan trusts, and which files it refuses to load
 */
#include "config.h"

#include <sys/file.h>
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

#include "ebb/index.h"
#include "ebb/index_cache.h"
#include "ebb/msg.h"

#define IDENT	"ebb test\npostfix\n/q 1:2\nmaximal_queue_lifetime=432000\n"

/* offsets in the header (index_cache.c): what the table below damages */
#define OFF_MAGIC	0
#define OFF_VERSION	8
#define OFF_ORDER	12
#define HEADER_SIZE	64

static char	 dir[256], path[300];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s/test_index_cache.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/scan-cache", dir);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct index_stamp
stamp(uint64_t i)
{
	struct index_stamp st = { 1000 + i, 500 + i, 1700000000 + (int64_t)i,
	    (uint32_t)i * 7 };

	return st;
}

/* put - one message: nrcpt recipients r0@d.test ..., a stamp unless i < 0 */
static void
put(struct index *ix, const char *id, int i, const char *sender,
    uint32_t nrcpt, const char *reason)
{
	struct index_stamp st = stamp((uint64_t)(i < 0 ? 0 : i));
	struct msg	 m;
	const char	*rcpt[4];
	char		 buf[4][32];
	uint32_t	 k;

	memset(&m, 0, sizeof(m));
	snprintf(m.queue_id, sizeof(m.queue_id), "%s", id);
	m.queue = 2;
	m.arrival_time = 1000 + i;
	m.create_time = 900 + i;
	m.deadline = 432900 + i;
	m.size = 4096 + (uint64_t)i;
	m.sender = sender;
	for (k = 0; k < nrcpt; k++) {
		snprintf(buf[k], sizeof(buf[k]), "r%u@d%d.test", k, i % 3);
		rcpt[k] = buf[k];
	}
	m.rcpt = rcpt;
	m.nrcpt = nrcpt;
	m.reason = reason;
	assert_non_null(index_put(ix, &m, i < 0 ? NULL : &st));
}

/* sample - the index the tests save: 5 stamped messages, 1 not */
static struct index *
sample(void)
{
	struct index	*ix = index_new();

	put(ix, "A1", 1, "alice@s.test", 1, NULL);
	put(ix, "B2", 2, "", 3, "connect refused");
	put(ix, "C3", 3, "alice@s.test", 0, NULL);
	put(ix, "D4", 4, "bob@s.test", 2, "connect refused");
	put(ix, "E5", 5, "bob@s.test", 1, NULL);
	put(ix, "NOSTAMP", -1, "carol@s.test", 1, NULL);
	return ix;
}

static void
save_sample(void)
{
	struct index	*ix = sample();
	char		*err = NULL;

	assert_int_equal(index_cache_save(path, IDENT, ix, &err), 0);
	assert_null(err);
	index_free(&ix);
}

static unsigned char *
slurp(size_t *len_r)
{
	unsigned char	*buf;
	FILE		*f = fopen(path, "rb");
	long		 n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len_r = (size_t)n;
	return buf;
}

static void
spew(const unsigned char *buf, size_t len)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* every field of every stamped message comes back; the unstamped does not */
static void
test_round_trip(void **state)
{
	struct index	*want = sample(), *ix = index_new();
	struct index_stamp a, b;
	struct msg	*m, *w;
	char		*why = NULL;
	const char	*ids[] = { "A1", "B2", "C3", "D4", "E5" };
	size_t		 i;
	uint32_t	 k;

	save_sample();
	assert_int_equal(index_cache_load(path, IDENT, ix, &why), 1);
	assert_null(why);
	assert_int_equal(index_count(ix), 5);
	assert_null(index_lookup(ix, "NOSTAMP"));
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		m = index_lookup(ix, ids[i]);
		w = index_lookup(want, ids[i]);
		assert_non_null(m);
		assert_int_equal(m->queue, w->queue);
		assert_int_equal(m->arrival_time, w->arrival_time);
		assert_int_equal(m->create_time, w->create_time);
		assert_int_equal(m->deadline, w->deadline);
		assert_int_equal(m->size, w->size);
		assert_string_equal(m->sender, w->sender);
		assert_int_equal(m->nrcpt, w->nrcpt);
		for (k = 0; k < m->nrcpt; k++)
			assert_string_equal(m->rcpt[k], w->rcpt[k]);
		if (w->reason == NULL)
			assert_null(m->reason);
		else
			assert_string_equal(m->reason, w->reason);
		assert_int_equal(index_stamp_of(m, &a), 1);
		assert_int_equal(index_stamp_of(w, &b), 1);
		/* field by field: the padding is nobody's */
		assert_true(a.ino == b.ino && a.size == b.size &&
		    a.mtime == b.mtime && a.mtime_nsec == b.mtime_nsec);
	}
	/* interned again: one copy of a string shared by two messages */
	assert_ptr_equal(index_lookup(ix, "A1")->sender,
	    index_lookup(ix, "C3")->sender);
	index_free(&ix);
	index_free(&want);
}

/*
 * which loaded entries a scan trusts: only a file whose inode, size and
 * mtime (to the nanosecond) all match; what a scan does not see is swept
 */
static void
test_stamp_rules(void **state)
{
	static const struct {
		const char	*what;
		int		 dino, dsize, dmtime, dnsec;
		int		 trusted;
	} cases[] = {
		{ "unchanged",			0, 0, 0, 0, 1 },
		{ "another inode",		1, 0, 0, 0, 0 },
		{ "another size",		0, 1, 0, 0, 0 },
		{ "another mtime",		0, 0, 1, 0, 0 },
		{ "mtime, nanoseconds",		0, 0, 0, 1, 0 },
		{ "all of them",		1, 1, 1, 1, 0 },
	};
	struct index_stamp st;
	struct index	*ix;
	char		*why = NULL;
	size_t		 i;

	save_sample();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ix = index_new();
		assert_int_equal(index_cache_load(path, IDENT, ix, &why), 1);
		index_scan_begin(ix);
		st = stamp(4);		/* D4's */
		st.ino += (uint64_t)cases[i].dino;
		st.size += (uint64_t)cases[i].dsize;
		st.mtime += cases[i].dmtime;
		st.mtime_nsec += (uint32_t)cases[i].dnsec;
		if (index_scan_unchanged(ix, "D4", &st, 2, 0) !=
		    cases[i].trusted)
			fail_msg("%s: trusted should be %d", cases[i].what,
			    cases[i].trusted);
		/* A1 seen unchanged, in hold now; the rest gone */
		st = stamp(1);
		assert_int_equal(index_scan_unchanged(ix, "A1", &st, 3, 0), 1);
		assert_int_equal(index_scan_end(ix),
		    cases[i].trusted ? 3 : 4);
		assert_int_equal(index_lookup(ix, "A1")->queue, 3);
		assert_true((index_lookup(ix, "D4") != NULL) ==
		    cases[i].trusted);
		index_free(&ix);
	}
}

/* the files index_cache_load refuses, and why; the index stays empty */
static void
test_refused(void **state)
{
	static const struct {
		const char	*what;
		long		 truncate;	/* to this length; -1: not */
		long		 poke;		/* flip a byte here; -1: not */
		int		 append;	/* one byte more */
		mode_t		 mode;		/* 0: 0600 */
		const char	*ident;		/* NULL: IDENT */
		const char	*why;
	} cases[] = {
		{ "empty", 0, -1, 0, 0, NULL, "truncated" },
		{ "a few bytes", 10, -1, 0, 0, NULL, "truncated" },
		{ "the header only", HEADER_SIZE, -1, 0, 0, NULL,
		  "truncated" },
		{ "one byte short", -2, -1, 0, 0, NULL, "truncated" },
		{ "one byte more", -1, -1, 1, 0, NULL, "damaged" },
		{ "magic", -1, OFF_MAGIC + 3, 0, 0, NULL,
		  "not an ebb scan cache" },
		{ "version", -1, OFF_VERSION, 0, 0, NULL, "another version" },
		{ "byte order", -1, OFF_ORDER, 0, 0, NULL, "byte order" },
		{ "a record", -1, HEADER_SIZE + 64 + 20, 0, 0, NULL,
		  "damaged (checksum)" },
		{ "the last string", -3, -1, 0, 0, NULL, "truncated" },
		{ "group-writable", -1, -1, 0, 0620, NULL,
		  "not a file of this user" },
		{ "world-writable", -1, -1, 0, 0606, NULL,
		  "not a file of this user" },
		{ "another queue", -1, -1, 0, 0, "ebb test\npostfix\n/q 1:3\n"
		  "maximal_queue_lifetime=432000\n", "made for another" },
		{ "another lifetime", -1, -1, 0, 0, "ebb test\npostfix\n/q 1:2\n"
		  "maximal_queue_lifetime=345600\n", "made for another" },
	};
	unsigned char	*good, *buf;
	struct index	*ix;
	char		*why;
	size_t		 len, n, i;

	save_sample();
	good = slurp(&len);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf = malloc(len + 1);
		assert_non_null(buf);
		memcpy(buf, good, len);
		n = len;
		if (cases[i].truncate >= 0)
			n = (size_t)cases[i].truncate;
		else if (cases[i].truncate == -2)
			n = len - 1;
		else if (cases[i].truncate == -3)
			n = len - 8;
		if (cases[i].poke >= 0)
			buf[cases[i].poke] ^= 0x40;
		if (cases[i].append)
			buf[n++] = 'x';
		spew(buf, n);
		if (cases[i].mode != 0)
			assert_int_equal(chmod(path, cases[i].mode), 0);
		ix = index_new();
		why = NULL;
		if (index_cache_load(path, cases[i].ident != NULL ?
		    cases[i].ident : IDENT, ix, &why) != -1)
			fail_msg("%s: loaded", cases[i].what);
		if (why == NULL || strstr(why, cases[i].why) == NULL)
			fail_msg("%s: why is \"%s\", not \"%s\"", cases[i].what,
			    why != NULL ? why : "(null)", cases[i].why);
		assert_int_equal(index_count(ix), 0);
		free(why);
		index_free(&ix);
		free(buf);
	}
	free(good);
}

/*
 * damage after the records, in strings that still parse: the records are
 * in the index by the time the checksum is known, and leave it again
 */
static void
test_damaged_late(void **state)
{
	static const char *const found[] = {
		"connect refused",	/* a reason */
		"alice@s.test",		/* a sender */
		"r2@d2.test",		/* a recipient of three, by the pool */
	};
	unsigned char	*good, *buf, *at;
	struct index	*ix;
	char		*why;
	size_t		 len, i, n;

	save_sample();
	good = slurp(&len);
	for (i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
		buf = malloc(len);
		assert_non_null(buf);
		memcpy(buf, good, len);
		n = strlen(found[i]);
		for (at = buf; at + n <= buf + len; at++)
			if (memcmp(at, found[i], n) == 0)
				break;
		if (at + n > buf + len)
			fail_msg("\"%s\" not in the file", found[i]);
		at[1] ^= 0x01;		/* another letter, no NUL */
		spew(buf, len);
		ix = index_new();
		why = NULL;
		if (index_cache_load(path, IDENT, ix, &why) != -1)
			fail_msg("%s: loaded", found[i]);
		if (why == NULL || strstr(why, "damaged (checksum)") == NULL)
			fail_msg("%s: why is \"%s\"", found[i],
			    why != NULL ? why : "(null)");
		assert_int_equal(index_count(ix), 0);
		assert_null(index_lookup(ix, "A1"));
		free(why);
		index_free(&ix);
		free(buf);
	}
	free(good);
}

/* no file: nothing loaded, nothing said; a symlink or a directory: refused */
static void
test_not_files(void **state)
{
	struct index	*ix = index_new();
	char		*why = NULL, target[320];

	assert_int_equal(index_cache_load(path, IDENT, ix, &why), 0);
	assert_null(why);
	save_sample();
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(index_cache_load(path, IDENT, ix, &why), -1);
	assert_non_null(why);
	free(why);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(index_cache_load(path, IDENT, ix, &why), -1);
	assert_non_null(strstr(why, "not a file"));
	free(why);
	assert_int_equal(index_count(ix), 0);
	assert_int_equal(rmdir(path), 0);
	index_free(&ix);
}

/*
 * what a crash mid-write leaves is scan-cache.new, half written: the cache
 * is still the old one, and the next save writes over the leftover
 */
static void
test_crash_leftover(void **state)
{
	struct index	*ix;
	char		*why = NULL, *err = NULL, tmp[320];
	int		 fd;

	save_sample();
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "EBBIXC\r\n\1\0\0", 11), 11);
	close(fd);
	ix = index_new();
	assert_int_equal(index_cache_load(path, IDENT, ix, &why), 1);
	assert_int_equal(index_count(ix), 5);
	put(ix, "F6", 6, "dave@s.test", 1, NULL);
	assert_int_equal(index_cache_save(path, IDENT, ix, &err), 0);
	index_free(&ix);
	assert_int_equal(access(tmp, F_OK), -1);
	ix = index_new();
	assert_int_equal(index_cache_load(path, IDENT, ix, &why), 1);
	assert_int_equal(index_count(ix), 6);
	index_free(&ix);
}

/* another process writing the cache (its lock on .new): we leave it be */
static void
test_writer_busy(void **state)
{
	struct index	*ix = sample();
	char		*err = NULL, tmp[320];
	int		 fd;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(index_cache_save(path, IDENT, ix, &err), 1);
	assert_int_equal(access(path, F_OK), -1);
	close(fd);
	assert_int_equal(index_cache_save(path, IDENT, ix, &err), 0);
	assert_int_equal(access(path, F_OK), 0);
	index_free(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stamp_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_late, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_leftover, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_writer_busy, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
