/*
 * test_postfix_record.c - the queue file reader on hand-built record buffers
 *
 * Each case builds a queue file in memory the way Postfix's cleanup writes
 * one (C T A S O R D p M ... X R E, with a milter's recipient after E when
 * asked), then breaks it: every truncation, length varints that overflow
 * or exceed the bound, pointer loops, pointers out of the file, records
 * where they do not belong. The reader must say why and never crash; the
 * sanitizer build runs these too.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ebb/postfix_record.h"

struct qf {
	unsigned char	 b[65536];
	size_t		 len;
	size_t		 size_at;	/* offset of the C record's data */
	size_t		 ptr_at;	/* offset of the recipients' p record */
	size_t		 after_ptr;	/* offset of the record after it */
	size_t		 data_offset;
	size_t		 content_size;
};

/* put - append one record: type, varint length, data */
static void
put(struct qf *q, int type, const void *data, size_t len)
{
	size_t		 l = len;

	q->b[q->len++] = (unsigned char)type;
	do {
		q->b[q->len] = l & 0x7f;
		if ((l >>= 7) != 0)
			q->b[q->len] |= 0x80;
		q->len++;
	} while (l != 0);
	memcpy(q->b + q->len, data, len);
	q->len += len;
}

static void
puts_(struct qf *q, int type, const char *s)
{
	put(q, type, s, strlen(s));
}

/* put_ptr - a p record, fixed width like Postfix's "%15ld" */
static size_t
put_ptr(struct qf *q, long target)
{
	char		 buf[32];
	size_t		 at = q->len;

	snprintf(buf, sizeof(buf), "%15ld", target);
	put(q, 'p', buf, 15);
	return at;
}

/* patch_ptr - point the p record at offset at to target */
static void
patch_ptr(struct qf *q, size_t at, long target)
{
	char		 buf[32];

	snprintf(buf, sizeof(buf), "%15ld", target);
	memcpy(q->b + at + 2, buf, 15);
}

static void
patch_size(struct qf *q)
{
	char		 buf[128];

	snprintf(buf, sizeof(buf), "%15ld %15ld %15ld %15ld %15ld %15ld",
	    (long)q->content_size, (long)q->data_offset, 2L, 0L,
	    (long)q->content_size, 0L);
	memcpy(q->b + q->size_at, buf, 95);
}

/*
 * build - a queue file: sender, two recipients of which one is done, a
 * content of body_len bytes, a recipient in the extracted segment and,
 * with milter set, one more recipient after E reached through p records
 */
static void
build(struct qf *q, const char *sender, size_t body_len, int milter)
{
	static char	 line[1024];
	size_t		 n;

	memset(q, 0, sizeof(*q));
	memset(line, 'x', sizeof(line));
	put(q, 'C', line, 95);		/* patched below */
	q->size_at = 2;
	puts_(q, 'T', "1700000000 123456");
	puts_(q, 'A', "create_time=1700000100");
	puts_(q, 'A', "log_ident=ABC123");
	puts_(q, 'S', sender);
	puts_(q, 'O', "bob@b.test");
	puts_(q, 'R', "bob@b.test");
	puts_(q, 'O', "done@c.test");
	puts_(q, 'D', "done@c.test");
	q->ptr_at = put_ptr(q, 0);
	q->after_ptr = q->len;
	put(q, 'M', "", 0);
	q->data_offset = q->len;
	puts_(q, 'N', "Subject: hello");
	puts_(q, 'N', "");
	for (n = 0; n < body_len; n += 72)
		put(q, 'N', line, 72);
	put_ptr(q, 0);			/* the content's placeholder */
	q->content_size = q->len - q->data_offset;
	put(q, 'X', "", 0);
	puts_(q, 'R', "extracted@d.test");
	put(q, 'E', "", 0);
	if (milter) {			/* what smfi_addrcpt leaves behind */
		patch_ptr(q, q->ptr_at, (long)q->len);
		puts_(q, 'O', "added@e.test");
		puts_(q, 'R', "added@e.test");
		put_ptr(q, (long)q->after_ptr);
	}
	patch_size(q);
}

static struct pf_parser *parser;

static enum pf_error
parse(const struct qf *q, size_t len, struct pf_envelope *env)
{
	const char	*why;

	return pf_parse_buffer(parser, q->b, len, env, &why);
}

static void
test_good(void **state)
{
	struct pf_envelope env;
	struct qf	 q;

	build(&q, "alice@a.test", 200, 0);
	assert_int_equal(parse(&q, q.len, &env), PF_OK);
	assert_int_equal(env.arrival_time, 1700000000);
	assert_int_equal(env.arrival_usec, 123456);
	assert_int_equal(env.create_time, 1700000100);
	assert_string_equal(env.sender, "alice@a.test");
	assert_int_equal(env.nrcpt, 2);
	assert_string_equal(env.rcpt[0], "bob@b.test");
	assert_string_equal(env.rcpt[1], "extracted@d.test");
	assert_int_equal(env.ndone, 1);
	assert_int_equal(env.content_size, (int64_t)q.content_size);
	assert_int_equal(env.data_offset, (int64_t)q.data_offset);
	assert_int_equal(env.rcpt_total, 2);
	assert_int_equal(env.npointers, 0);
}

static void
test_null_sender(void **state)
{
	struct pf_envelope env;
	struct qf	 q;

	build(&q, "", 10, 0);
	assert_int_equal(parse(&q, q.len, &env), PF_OK);
	assert_string_equal(env.sender, "");
}

static void
test_milter_recipient(void **state)
{
	struct pf_envelope env;
	struct qf	 q;

	build(&q, "alice@a.test", 100, 1);
	assert_int_equal(parse(&q, q.len, &env), PF_OK);
	assert_int_equal(env.nrcpt, 3);
	assert_string_equal(env.rcpt[0], "bob@b.test");
	assert_string_equal(env.rcpt[1], "added@e.test");
	assert_string_equal(env.rcpt[2], "extracted@d.test");
	assert_int_equal(env.npointers, 2);
	assert_int_equal(env.ndone, 1);
}

/* every proper prefix of a valid file is an error, never a crash */
static void
test_truncated(void **state)
{
	struct pf_envelope env;
	struct qf	 q;
	size_t		 cut;
	enum pf_error	 e;

	build(&q, "alice@a.test", 300, 1);
	for (cut = 0; cut < q.len; cut++) {
		e = parse(&q, cut, &env);
		assert_int_not_equal(e, PF_OK);
		if (cut > q.size_at + 95)	/* past the size record */
			assert_true(e == PF_ERR_TRUNCATED ||
			    e == PF_ERR_CORRUPT);
	}
	/* cut inside the content: the size record points past the end */
	assert_int_equal(parse(&q, q.data_offset + 10, &env),
	    PF_ERR_TRUNCATED);
	/* cut inside the envelope */
	assert_int_equal(parse(&q, q.ptr_at - 3, &env), PF_ERR_TRUNCATED);
}

/* one bit flipped anywhere: ok or an error, never a crash or a hang */
static void
test_bit_flips(void **state)
{
	struct pf_envelope env;
	struct qf	 q, bad;
	size_t		 i;
	int		 bit;

	build(&q, "alice@a.test", 100, 1);
	for (i = 0; i < q.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			bad = q;
			bad.b[i] ^= (unsigned char)(1 << bit);
			(void)parse(&bad, bad.len, &env);
		}
	}
}

static void
test_varint_overflow(void **state)
{
	static const unsigned char five[] = { 'S', 0xff, 0xff, 0xff, 0xff,
	    0x01, 'x' };
	struct pf_envelope env;
	const char	*why;

	assert_int_equal(pf_parse_buffer(parser, five, sizeof(five), &env,
	    &why), PF_ERR_CORRUPT);
	assert_non_null(strstr(why, "length"));
}

static void
test_huge_length(void **state)
{
	/* 2^21 bytes announced: more than PF_REC_MAX */
	static const unsigned char huge[] = { 'S', 0x80, 0x80, 0x80, 0x01,
	    'x', 'y' };
	struct pf_envelope env;
	const char	*why;

	assert_int_equal(pf_parse_buffer(parser, huge, sizeof(huge), &env,
	    &why), PF_ERR_CORRUPT);
	assert_non_null(strstr(why, "1 MiB"));
}

static void
test_pointer_loop(void **state)
{
	struct pf_envelope env;
	struct qf	 q;

	/* a pointer to itself */
	build(&q, "alice@a.test", 10, 0);
	patch_ptr(&q, q.ptr_at, (long)q.ptr_at);
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);

	/* a pointer back to the sender: a loop through several records */
	build(&q, "alice@a.test", 10, 0);
	patch_ptr(&q, q.ptr_at, (long)q.size_at + 95);
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);

	/* the milter's heap pointing back to itself */
	build(&q, "alice@a.test", 10, 1);
	patch_ptr(&q, q.len - 17, (long)(q.len - 17));
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);
}

static void
test_pointer_bounds(void **state)
{
	struct pf_envelope env;
	struct qf	 q;
	const char	*why;

	build(&q, "alice@a.test", 10, 0);
	patch_ptr(&q, q.ptr_at, (long)q.len);
	assert_int_equal(pf_parse_buffer(parser, q.b, q.len, &env, &why),
	    PF_ERR_CORRUPT);
	assert_string_equal(why, "bad pointer record");
	patch_ptr(&q, q.ptr_at, 999999999L);
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);
	memcpy(q.b + q.ptr_at + 2, "          12x34", 15);
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);
	assert_int_equal(env.error_offset, q.ptr_at);
}

static void
test_missing_records(void **state)
{
	struct pf_envelope env;
	struct qf	 q;
	const char	*why;

	/* no S: turn it into a K (killed) record, allowed but not a sender */
	build(&q, "alice@a.test", 10, 0);
	*(unsigned char *)memchr(q.b + q.size_at + 95, 'S',
	    q.len - q.size_at - 95) = 'K';
	assert_int_equal(pf_parse_buffer(parser, q.b, q.len, &env, &why),
	    PF_ERR_CORRUPT);
	assert_string_equal(why, "no sender record");

	/* a malformed C record */
	build(&q, "alice@a.test", 10, 0);
	memset(q.b + 2, 'z', 95);
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);
}

static void
test_unexpected_types(void **state)
{
	struct pf_envelope env;
	struct qf	 q;
	const char	*why;

	/* content before M */
	build(&q, "alice@a.test", 10, 0);
	q.b[q.ptr_at] = 'N';
	assert_int_equal(pf_parse_buffer(parser, q.b, q.len, &env, &why),
	    PF_ERR_CORRUPT);
	assert_string_equal(why, "unexpected record type");

	/* a content size that does not land on X */
	build(&q, "alice@a.test", 10, 0);
	q.content_size -= 2;
	patch_size(&q);
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);

	/* a NUL type byte */
	build(&q, "alice@a.test", 10, 0);
	q.b[q.ptr_at] = 0;
	assert_int_equal(parse(&q, q.len, &env), PF_ERR_CORRUPT);
}

struct counted {
	const unsigned char *b;
	size_t		 len;
	int		 reads;
	int		 fail;
};

static ssize_t
counted_read(void *arg, void *buf, size_t len, uint64_t off)
{
	struct counted	*c = arg;

	c->reads++;
	if (c->fail)
		return -1;
	if (off >= c->len)
		return 0;
	if (len > c->len - off)
		len = c->len - off;
	memcpy(buf, c->b + off, len);
	return (ssize_t)len;
}

/* a small file takes one read; a large one a second for the X segment */
static void
test_reads(void **state)
{
	struct pf_envelope env;
	struct counted	 c;
	struct qf	 q;
	const char	*why;

	build(&q, "alice@a.test", 500, 0);
	c = (struct counted){ q.b, q.len, 0, 0 };
	assert_int_equal(pf_parse(parser, counted_read, &c, q.len, &env,
	    &why), PF_OK);
	assert_int_equal(c.reads, 1);

	build(&q, "alice@a.test", 20000, 1);
	c = (struct counted){ q.b, q.len, 0, 0 };
	assert_int_equal(pf_parse(parser, counted_read, &c, q.len, &env,
	    &why), PF_OK);
	assert_int_equal(env.nrcpt, 3);
	assert_string_equal(env.rcpt[1], "added@e.test");
	assert_true(c.reads <= 4);

	c = (struct counted){ q.b, q.len, 0, 1 };
	assert_int_equal(pf_parse(parser, counted_read, &c, q.len, &env,
	    &why), PF_ERR_IO);
}

/* a long record straddling the first window */
static void
test_long_record(void **state)
{
	struct pf_envelope env;
	struct qf	 q;
	char		 addr[6001];

	memset(&q, 0, sizeof(q));
	build(&q, "alice@a.test", 10, 0);
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	memcpy(addr + 5990, "@long.test", 11);
	/* rebuild with the long sender */
	build(&q, addr, 10, 0);
	assert_int_equal(parse(&q, q.len, &env), PF_OK);
	assert_int_equal(strlen(env.sender), 6000);
}

static void
test_reuse(void **state)
{
	struct pf_envelope a, b;
	struct qf	 q;
	struct pf_parser *other = pf_parser_new();
	const char	*why;

	build(&q, "first@a.test", 10, 0);
	assert_int_equal(pf_parse_buffer(other, q.b, q.len, &a, &why),
	    PF_OK);
	assert_string_equal(a.sender, "first@a.test");
	build(&q, "second@a.test", 10, 1);
	assert_int_equal(pf_parse_buffer(other, q.b, q.len, &b, &why),
	    PF_OK);
	assert_string_equal(b.sender, "second@a.test");
	assert_int_equal(b.nrcpt, 3);
	pf_parser_free(&other);
	assert_null(other);
	pf_parser_free(&other);
	assert_string_equal(pf_error_name(PF_ERR_TRUNCATED), "truncated");
}

static int
setup(void **state)
{
	parser = pf_parser_new();
	return 0;
}

static int
teardown(void **state)
{
	pf_parser_free(&parser);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_null_sender),
		cmocka_unit_test(test_milter_recipient),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_varint_overflow),
		cmocka_unit_test(test_huge_length),
		cmocka_unit_test(test_pointer_loop),
		cmocka_unit_test(test_pointer_bounds),
		cmocka_unit_test(test_missing_records),
		cmocka_unit_test(test_unexpected_types),
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_long_record),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
