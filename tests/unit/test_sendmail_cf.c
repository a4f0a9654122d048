/*
 * test_sendmail_cf.c - what ebb reads from sendmail.cf, on a table of
 * .cf snippets: the options in long and short form, the queuereturn
 * classes and their order, queue groups, precedences, and values ebb
 * must refuse rather than guess
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

#include "../../src/mta/sendmail.h"

#define D	86400L

static void
parse_ok(const char *text, struct sm_cf *cf)
{
	char		*err = NULL;

	if (sm_cf_parse(text, strlen(text), cf, &err) < 0)
		fail_msg("%s: %s", text, err);
}

static void
test_stock(void **state)
{
	/* what the m4 files write */
	static const char text[] =
	    "# comment\n"
	    "O QueueDirectory=/var/spool/mqueue\n"
	    "O Timeout.queuereturn=5d\n"
	    "#O Timeout.queuereturn.urgent=2d\n"
	    "O Timeout.queuewarn=4h\n"
	    "Pfirst-class=0\nPspecial-delivery=100\nPlist=-30\nPbulk=-60\n"
	    "Pjunk=-100\n";
	struct sm_cf	 cf;
	int		 c;

	(void)state;
	parse_ok(text, &cf);
	assert_string_equal(cf.queue_dir, "/var/spool/mqueue");
	for (c = 0; c < SM_QF_CLASS_COUNT; c++)
		assert_int_equal(cf.lifetime[c], 5 * D);
	assert_int_equal(cf.nprec, 5);
	assert_int_equal(sm_cf_precedence(&cf, "BULK"), -60);
	assert_int_equal(sm_cf_precedence(&cf, "special-delivery"), 100);
	assert_int_equal(sm_cf_precedence(&cf, "nothing"), 0);
	assert_int_equal(cf.ngroup_dirs, 0);
	sm_cf_free(&cf);
}

static void
test_classes(void **state)
{
	struct sm_cf	 cf;

	(void)state;
	/* a class's own option overrides the plain one given before it */
	parse_ok("O Timeout.queuereturn=5d\n"
	    "O Timeout.queuereturn.urgent=2d\n"
	    "O Timeout.queuereturn.non-urgent = 1w\n"
	    "O timeout.QUEUERETURN.dsn=36h\n", &cf);
	assert_int_equal(cf.lifetime[SM_QF_CLASS_NORMAL], 5 * D);
	assert_int_equal(cf.lifetime[SM_QF_CLASS_URGENT], 2 * D);
	assert_int_equal(cf.lifetime[SM_QF_CLASS_NONURGENT], 7 * D);
	assert_int_equal(cf.lifetime[SM_QF_CLASS_DSN], 36 * 3600);
	sm_cf_free(&cf);
	/* and the plain one, later, sets them all again */
	parse_ok("O Timeout.queuereturn.urgent=2d\n"
	    "O Timeout.queuereturn=3\n", &cf);
	assert_int_equal(cf.lifetime[SM_QF_CLASS_URGENT], 3 * D);
	assert_null(cf.queue_dir);
	sm_cf_free(&cf);
	/* none set */
	parse_ok("O LogLevel=9\n", &cf);
	assert_int_equal(cf.lifetime[SM_QF_CLASS_NORMAL], -1);
	sm_cf_free(&cf);
}

static void
test_dirs(void **state)
{
	struct sm_cf	 cf;

	(void)state;
	parse_ok("OQ/var/spool/old\n"
	    "Qbig, Path=/var/spool/mqueue/big, Flags=f\n"
	    "Qsmall,Runners=2,\n  Path=/var/spool/small*\n"
	    "Qmqueue, Flags=f\n", &cf);
	assert_string_equal(cf.queue_dir, "/var/spool/old");
	assert_int_equal(cf.ngroup_dirs, 2);
	assert_string_equal(cf.group_dirs[0], "/var/spool/mqueue/big");
	assert_string_equal(cf.group_dirs[1], "/var/spool/small*");
	sm_cf_free(&cf);
	parse_ok("O QueueDirectory=/var/spool/mqueue/q*\r\n", &cf);
	assert_string_equal(cf.queue_dir, "/var/spool/mqueue/q*");
	sm_cf_free(&cf);
}

static void
test_refused(void **state)
{
	static const struct {
		const char	*cf;
		const char	*why;
	} t[] = {
		{ "O QueueDirectory=mqueue\n",
		  "line 1: queue directory \"mqueue\" is not an absolute "
		  "path" },
		{ "\nO QueueDirectory=/a/*/b\n",
		  "line 2: queue directory \"/a/*/b\": only a final \"*\" "
		  "is understood" },
		{ "O Timeout.queuereturn=5x\n",
		  "line 1: Timeout.queuereturn: \"5x\" is not a time" },
		{ "O Timeout.queuereturn=\n",
		  "line 1: Timeout.queuereturn: \"\" is not a time" },
		{ "O Timeout.queuereturn.dsn=99999999d\n",
		  "line 1: Timeout.queuereturn.dsn: \"99999999d\" is not a "
		  "time" },
		{ "Pbulk\n", "line 1: precedence (P) without \"=\"" },
		{ "Pbulk=lots\n", "line 1: precedence bulk: not a number" },
		{ "Qg, Path=rel\n",
		  "line 1: queue directory \"rel\" is not an absolute path" },
	};
	struct sm_cf	 cf;
	char		*err;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err = NULL;
		assert_int_equal(sm_cf_parse(t[i].cf, strlen(t[i].cf), &cf,
		    &err), -1);
		assert_string_equal(err, t[i].why);
		free(err);
	}
	err = NULL;
	assert_int_equal(sm_cf_parse("O X=\0y\n", 7, &cf, &err), -1);
	free(err);
}

static void
test_duration(void **state)
{
	(void)state;
	assert_int_equal(sm_cf_duration("5d", 'd'), 5 * D);
	assert_int_equal(sm_cf_duration("5", 'd'), 5 * D);
	assert_int_equal(sm_cf_duration("5", 'm'), 300);
	assert_int_equal(sm_cf_duration("1h30m", 'd'), 5400);
	assert_int_equal(sm_cf_duration(" 2w ", 'd'), 14 * D);
	assert_int_equal(sm_cf_duration("90s", 'd'), 90);
	assert_int_equal(sm_cf_duration("", 'd'), -1);
	assert_int_equal(sm_cf_duration("d", 'd'), -1);
	assert_int_equal(sm_cf_duration("5q", 'd'), -1);
	assert_int_equal(sm_cf_duration("5d x", 'd'), -1);
	assert_int_equal(sm_cf_duration("-5d", 'd'), -1);
	assert_int_equal(sm_cf_duration("3651d", 'd'), -1);
	assert_int_equal(sm_cf_duration("99999999999999999999", 's'), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stock),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_dirs),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
