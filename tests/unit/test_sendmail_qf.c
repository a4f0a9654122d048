/*
 * test_sendmail_qf.c - the qf reader on a table of control files
 *
 * The good cases are the files a private Sendmail 8.17 wrote (plain mail,
 * the null sender, three recipients, after a failed attempt, quarantined);
 * the bad ones break them: cut at every length, a missing or repeated
 * record, a NUL, an empty line, bad numbers, recipients and headers. The
 * parser gets each as an exact-length copy in its own allocation, so the
 * sanitizer build catches any read past the end.
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

#include "ebb/sendmail_qf.h"

static struct sm_qf_parser *parser;

/* the deferred file Sendmail wrote for one message, three recipients */
#define QF_HEAD \
	"V8\nT1796529501\nK1796529501\nN1\nP288036\nI254/0/10977649\n" \
	"MDeferred: Connection refused by [127.0.0.1]\nFs\n" \
	"$_root@localhost\n${daemon_flags}c u\n"
#define QF_RCPTS \
	"rRFC822; a@d1.test\nRPFD:a@d1.test\n" \
	"rRFC822; b@d2.test\nRPFD:b@d2.test\n" \
	"rRFC822; c@sink.test\nRPFD:c@sink.test\n"
#define QF_HDRS \
	"H?P?Return-Path: <\x81g>\n" \
	"H??Received: (from root@localhost)\n" \
	"\tby test.localdomain (8.17.1.9/8.17.1.9) id 6B63wLep015857;\n" \
	"\tSun, 6 Dec 2026 03:58:21 GMT\n" \
	"H?D?Date: Sun, 6 Dec 2026 03:58:21 GMT\n" \
	"H??Subject: t2\n"
#define QF_GOOD QF_HEAD "Salice@senders.test\nAalice@senders.test\n" \
	QF_RCPTS QF_HDRS ".\n"

/* parse - s as a file of exactly its length, in a fresh allocation */
static enum sm_qf_error
parse_len(const char *s, size_t len, struct sm_qf *qf, const char **why)
{
	enum sm_qf_error e;
	char		*copy = malloc(len > 0 ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	e = sm_qf_parse(parser, copy, len, qf, why);
	free(copy);
	return e;
}

static enum sm_qf_error
parse(const char *s, struct sm_qf *qf, const char **why)
{
	return parse_len(s, strlen(s), qf, why);
}

static void
test_good(void **state)
{
	struct sm_qf	 qf;
	const char	*why;

	(void)state;
	/* the parser copied the strings: they outlive the input */
	assert_int_equal(parse(QF_GOOD, &qf, &why), SM_QF_OK);
	assert_int_equal(qf.version, 8);
	assert_int_equal(qf.ctime, 1796529501);
	assert_int_equal(qf.last_attempt, 1796529501);
	assert_int_equal(qf.attempts, 1);
	assert_int_equal(qf.priority, 288036);
	assert_string_equal(qf.sender, "alice@senders.test");
	assert_string_equal(qf.status,
	    "Deferred: Connection refused by [127.0.0.1]");
	assert_null(qf.quarantine);
	assert_int_equal(qf.quarantined, 0);
	assert_int_equal(qf.nrcpt, 3);
	assert_int_equal(qf.nfinal, 3);
	assert_string_equal(qf.rcpt[0], "a@d1.test");
	assert_string_equal(qf.rcpt[2], "c@sink.test");
	assert_int_equal(qf.nheaders, 4);
	assert_int_equal(qf.response, 0);
	assert_int_equal(sm_qf_class(&qf, NULL, NULL), SM_QF_CLASS_NORMAL);
}

static void
test_null_sender_quarantined(void **state)
{
	struct sm_qf	 qf;
	const char	*why;

	(void)state;
	assert_int_equal(parse("V8\nT100\nqebb: parked deadline=5\nS<>\n"
	    "RPFD:x@y.test\nFrs\n.\n", &qf, &why), SM_QF_OK);
	assert_string_equal(qf.sender, "");
	assert_int_equal(qf.quarantined, 1);
	assert_string_equal(qf.quarantine, "ebb: parked deadline=5");
	assert_int_equal(qf.response, 1);
	assert_int_equal(sm_qf_class(&qf, NULL, NULL), SM_QF_CLASS_DSN);
	/* an empty S is the null sender too; no recipient left is fine */
	assert_int_equal(parse("V8\nT100\nS\n.\n", &qf, &why), SM_QF_OK);
	assert_string_equal(qf.sender, "");
	assert_int_equal(qf.nrcpt, 0);
	/* an empty q still quarantines */
	assert_int_equal(parse("V8\nT1\nq\nSa\n.\n", &qf, &why), SM_QF_OK);
	assert_int_equal(qf.quarantined, 1);
	assert_string_equal(qf.quarantine, "");
}

/* a table of whole files and what the parser must say */
static const struct {
	const char	*name;
	const char	*file;
	enum sm_qf_error want;
	size_t		 line;
} cases[] = {
	{ "empty", "", SM_QF_TRUNCATED, 1 },
	{ "no end line", "V8\nT1\nSa\n", SM_QF_TRUNCATED, 4 },
	{ "last line unended", "V8\nT1\nSa\n.", SM_QF_TRUNCATED, 4 },
	{ "no version", "T1\nSa\n.\n", SM_QF_CORRUPT, 1 },
	{ "version 9", "V9\nT1\nSa\n.\n", SM_QF_CORRUPT, 1 },
	{ "version 0", "V0\nT1\nSa\n.\n", SM_QF_CORRUPT, 1 },
	{ "version text", "V8x\nT1\nSa\n.\n", SM_QF_CORRUPT, 1 },
	{ "no T", "V8\nSa\n.\n", SM_QF_CORRUPT, 4 },
	{ "no S", "V8\nT1\n.\n", SM_QF_CORRUPT, 4 },
	{ "two T", "V8\nT1\nT2\nSa\n.\n", SM_QF_CORRUPT, 3 },
	{ "two S", "V8\nT1\nSa\nSb\n.\n", SM_QF_CORRUPT, 4 },
	{ "T empty", "V8\nT\nSa\n.\n", SM_QF_CORRUPT, 2 },
	{ "T negative", "V8\nT-1\nSa\n.\n", SM_QF_CORRUPT, 2 },
	{ "T too long", "V8\nT1234567890123456789\nSa\n.\n", SM_QF_CORRUPT,
	  2 },
	{ "T trailing", "V8\nT12 \nSa\n.\n", SM_QF_CORRUPT, 2 },
	{ "K text", "V8\nT1\nKx\nSa\n.\n", SM_QF_CORRUPT, 3 },
	{ "N huge", "V8\nT1\nN99999999999\nSa\n.\n", SM_QF_CORRUPT, 3 },
	{ "P negative", "V8\nT1\nP-5\nSa\n.\n", SM_QF_OK, 0 },
	{ "P minus only", "V8\nT1\nP-\nSa\n.\n", SM_QF_CORRUPT, 3 },
	{ "R without colon", "V8\nT1\nSa\nRa@b\n.\n", SM_QF_CORRUPT, 4 },
	{ "R empty address", "V8\nT1\nSa\nRPF:\n.\n", SM_QF_CORRUPT, 4 },
	{ "R bad flags", "V8\nT1\nSa\nR1 x:a@b\n.\n", SM_QF_CORRUPT, 4 },
	{ "R no flags", "V8\nT1\nSa\nR:a@b\n.\n", SM_QF_OK, 0 },
	{ "H no colon", "V8\nT1\nSa\nH??Subject\n.\n", SM_QF_CORRUPT, 4 },
	{ "H no name", "V8\nT1\nSa\nH??: x\n.\n", SM_QF_CORRUPT, 4 },
	{ "H open flags", "V8\nT1\nSa\nH?P Subject: x\n.\n", SM_QF_CORRUPT,
	  4 },
	{ "H space in name", "V8\nT1\nSa\nH??Sub ject: x\n.\n",
	  SM_QF_CORRUPT, 4 },
	{ "H without flags", "V8\nT1\nSa\nHSubject: x\n.\n", SM_QF_OK, 0 },
	{ "empty line", "V8\nT1\n\nSa\n.\n", SM_QF_CORRUPT, 3 },
	{ "fold first", "\tV8\nT1\nSa\n.\n", SM_QF_CORRUPT, 1 },
	{ "fold at start", " x\nV8\nT1\nSa\n.\n", SM_QF_CORRUPT, 1 },
	{ "control type", "V8\nT1\n\x01x\nSa\n.\n", SM_QF_CORRUPT, 3 },
	{ "unknown type", "V8\nT1\nYwhatever\nSa\n.\n", SM_QF_OK, 0 },
	{ "after the end", "V8\nT1\nSa\n.\ngarbage", SM_QF_OK, 0 },
	{ "folded sender", "V8\nT1\nSa\n\tb\n.\n", SM_QF_OK, 0 },
	{ "dot with text", "V8\nT1\nSa\n.x\n", SM_QF_TRUNCATED, 5 },
	{ "cut in a fold", "V8\nT1\nSa\nH??X: a\n\tb", SM_QF_TRUNCATED, 5 },
};

static void
test_table(void **state)
{
	struct sm_qf	 qf;
	const char	*why;
	enum sm_qf_error e;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = parse(cases[i].file, &qf, &why);
		if (e != cases[i].want || qf.error_line != cases[i].line)
			fail_msg("%s: got %s (%s) at line %zu, want %s at "
			    "line %zu", cases[i].name, sm_qf_error_name(e),
			    why != NULL ? why : "-", qf.error_line,
			    sm_qf_error_name(cases[i].want), cases[i].line);
		if (e != SM_QF_OK)
			assert_non_null(why);
	}
}

static void
test_nul(void **state)
{
	static const char f[] = "V8\nT1\nSa\0b\n.\n";
	struct sm_qf	 qf;
	const char	*why;

	(void)state;
	assert_int_equal(parse_len(f, sizeof(f) - 1, &qf, &why),
	    SM_QF_CORRUPT);
	assert_int_equal(qf.error_line, 3);
	assert_string_equal(why, "a NUL byte");
}

/* every prefix of a good file is truncated (or corrupt), never OK */
static void
test_every_cut(void **state)
{
	const char	*f = QF_GOOD;
	struct sm_qf	 qf;
	const char	*why;
	size_t		 n, len = strlen(f);

	(void)state;
	for (n = 0; n < len - 1; n++)
		assert_int_not_equal(parse_len(f, n, &qf, &why), SM_QF_OK);
	assert_int_equal(parse_len(f, len, &qf, &why), SM_QF_OK);
}

/* flip each byte to each of a few values: never a crash */
static void
test_byte_flips(void **state)
{
	static const char vals[] = { '\n', '\0', '\t', ' ', ':', '?', 'R',
	    '.', '\xff' };
	char		 f[sizeof(QF_GOOD)];
	struct sm_qf	 qf;
	const char	*why;
	size_t		 i, v, len = sizeof(QF_GOOD) - 1;

	(void)state;
	for (i = 0; i < len; i++)
		for (v = 0; v < sizeof(vals); v++) {
			memcpy(f, QF_GOOD, len);
			f[i] = vals[v];
			if (parse_len(f, len, &qf, &why) == SM_QF_OK)
				assert_non_null(qf.sender);
		}
}

static void
test_bounds(void **state)
{
	struct sm_qf	 qf;
	const char	*why;
	char		*f;
	size_t		 n;

	(void)state;
	/* a status line longer than SM_QF_LINE_MAX is corrupt */
	n = SM_QF_LINE_MAX + 64;
	f = malloc(n + 64);
	assert_non_null(f);
	strcpy(f, "V8\nT1\nSa\nM");
	memset(f + 10, 'x', SM_QF_LINE_MAX + 1);
	strcpy(f + 10 + SM_QF_LINE_MAX + 1, "\n.\n");
	assert_int_equal(parse(f, &qf, &why), SM_QF_CORRUPT);
	assert_int_equal(qf.error_line, 4);
	/* one a byte shorter is fine, and the status is cut */
	strcpy(f + 10 + SM_QF_LINE_MAX - 1, "\n.\n");
	assert_int_equal(parse(f, &qf, &why), SM_QF_OK);
	assert_int_equal(strlen(qf.status), SM_QF_VALUE_MAX);
	free(f);
	/* a file past SM_QF_FILE_MAX is refused before it is read */
	assert_int_equal(sm_qf_parse(parser, "", SM_QF_FILE_MAX + 1, &qf,
	    &why), SM_QF_CORRUPT);
}

static void
test_many_recipients(void **state)
{
	struct sm_qf	 qf;
	const char	*why;
	char		*f;
	size_t		 i, off;

	(void)state;
	f = malloc(1000 * 32 + 64);
	assert_non_null(f);
	off = (size_t)sprintf(f, "V8\nT1\nSa\n");
	for (i = 0; i < 1000; i++)
		off += (size_t)sprintf(f + off, "RPFD:u%zu@d.test\n", i);
	strcpy(f + off, ".\n");
	assert_int_equal(parse(f, &qf, &why), SM_QF_OK);
	assert_int_equal(qf.nrcpt, 1000);
	assert_string_equal(qf.rcpt[999], "u999@d.test");
	free(f);
}

static int
cf_precedence(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "mine") == 0 ? 5 : 0;
}

static void
test_class(void **state)
{
	static const struct {
		const char	*headers;
		const char	*flags;
		enum sm_qf_class want;
	} t[] = {
		{ "", "", SM_QF_CLASS_NORMAL },
		{ "H??Precedence: bulk\n", "", SM_QF_CLASS_NONURGENT },
		{ "H??Precedence: junk\n", "", SM_QF_CLASS_NONURGENT },
		{ "H??Precedence: special-delivery\n", "",
		  SM_QF_CLASS_URGENT },
		{ "H??Precedence: first-class\n", "", SM_QF_CLASS_NORMAL },
		{ "H??Precedence: whatever\n", "", SM_QF_CLASS_NORMAL },
		{ "H??Priority: urgent\n", "", SM_QF_CLASS_URGENT },
		{ "H??Priority: Non-Urgent\n", "", SM_QF_CLASS_NONURGENT },
		{ "H??Precedence: bulk\nH??Priority: normal\n", "",
		  SM_QF_CLASS_NORMAL },
		{ "H??Priority: high\n", "Fr\n", SM_QF_CLASS_DSN },
		{ "H??Priority: urgent\n", "Fr\n", SM_QF_CLASS_URGENT },
		{ "", "Fwr\n", SM_QF_CLASS_DSN },
		{ "H??Content-Type: multipart/report; report-type="
		  "delivery-status;\n\tboundary=\"x\"\n", "",
		  SM_QF_CLASS_DSN },
		{ "H??Content-Type: multipart/report;\n\treport-type="
		  "\"delivery-status\"\n", "", SM_QF_CLASS_DSN },
		{ "H??Content-Type: multipart/report; report-type="
		  "disposition-notification\n", "", SM_QF_CLASS_NORMAL },
		{ "H??Content-Type: text/plain; report-type="
		  "delivery-status\n", "", SM_QF_CLASS_NORMAL },
		{ "H??Content-Type: multipart/report; report-type="
		  "delivery-status-x\n", "", SM_QF_CLASS_NORMAL },
	};
	struct sm_qf	 qf;
	const char	*why;
	char		 f[512];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(f, sizeof(f), "V8\nT1\n%sSa\n%s.\n", t[i].flags,
		    t[i].headers);
		assert_int_equal(parse(f, &qf, &why), SM_QF_OK);
		if (sm_qf_class(&qf, NULL, NULL) != t[i].want)
			fail_msg("case %zu: got %s, want %s", i,
			    sm_qf_class_name(sm_qf_class(&qf, NULL, NULL)),
			    sm_qf_class_name(t[i].want));
	}
	/* the .cf's own P lines decide */
	assert_int_equal(parse("V8\nT1\nSa\nH??Precedence: mine\n.\n", &qf,
	    &why), SM_QF_OK);
	assert_int_equal(sm_qf_class(&qf, cf_precedence, NULL),
	    SM_QF_CLASS_URGENT);
	assert_int_equal(sm_qf_class(&qf, NULL, NULL), SM_QF_CLASS_NORMAL);
	assert_string_equal(sm_qf_class_name(SM_QF_CLASS_NONURGENT),
	    "non-urgent");
}

static int
setup(void **state)
{
	(void)state;
	parser = sm_qf_parser_new();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sm_qf_parser_free(&parser);
	assert_null(parser);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_null_sender_quarantined),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_byte_flips),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_many_recipients),
		cmocka_unit_test(test_class),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
