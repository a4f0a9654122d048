/*
 * test_index.c - the message index: lookup, interning, mark and sweep,
 * memory per message
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

#include "ebb/index.h"
#include "ebb/msg.h"

/* queue numbers as a backend would give them (the index does not care) */
enum { Q_INCOMING, Q_ACTIVE, Q_DEFERRED, Q_HOLD };

/* mk - a message with n recipients rcpt0@domain ... and a stamp */
static struct msg *
mk(struct index *ix, const char *id, int queue, const char *sender,
    const char *domain, uint32_t n, const struct index_stamp *st)
{
	struct msg	 m;
	const char	*rcpt[8];
	char		 buf[8][64];
	uint32_t	 i;

	memset(&m, 0, sizeof(m));
	snprintf(m.queue_id, sizeof(m.queue_id), "%s", id);
	m.queue = (uint8_t)queue;
	m.arrival_time = 1000;
	m.create_time = 1000;
	m.deadline = 1000 + 432000;
	m.size = 1234;
	m.sender = sender;
	for (i = 0; i < n && i < 8; i++) {
		snprintf(buf[i], sizeof(buf[i]), "rcpt%u@%s", i, domain);
		rcpt[i] = buf[i];
	}
	m.rcpt = rcpt;
	m.nrcpt = n;
	return index_put(ix, &m, st);
}

static void
test_put_lookup(void **state)
{
	struct index	*ix = index_new();
	struct msg	*m;

	m = mk(ix, "ABC123", Q_DEFERRED, "a@x.test", "y.test", 2,
	    NULL);
	assert_non_null(m);
	assert_ptr_equal(index_lookup(ix, "ABC123"), m);
	assert_null(index_lookup(ix, "ABC124"));
	assert_string_equal(m->sender, "a@x.test");
	assert_int_equal(m->nrcpt, 2);
	assert_string_equal(m->rcpt[1], "rcpt1@y.test");
	assert_int_equal(index_count(ix), 1);
	assert_int_equal(index_count_queue(ix, Q_DEFERRED), 1);
	assert_int_equal(index_count_queue(ix, Q_HOLD), 0);
	assert_int_equal(index_count_queue(ix, 99), 0);

	/* replacing moves it between queues and keeps its address */
	assert_ptr_equal(mk(ix, "ABC123", Q_HOLD, "b@x.test",
	    "y.test", 1, NULL), m);
	assert_int_equal(index_count(ix), 1);
	assert_int_equal(index_count_queue(ix, Q_DEFERRED), 0);
	assert_int_equal(index_count_queue(ix, Q_HOLD), 1);
	assert_string_equal(m->sender, "b@x.test");
	assert_int_equal(m->nrcpt, 1);

	assert_int_equal(index_remove(ix, "ABC123"), 0);
	assert_int_equal(index_remove(ix, "ABC123"), -1);
	assert_int_equal(index_count(ix), 0);
	assert_int_equal(index_count_queue(ix, Q_HOLD), 0);

	/* ids that cannot be stored */
	assert_null(mk(ix, "", Q_HOLD, "a@x.test", "y.test", 1,
	    NULL));
	index_free(&ix);
	assert_null(ix);
	index_free(&ix);
}

static void
test_intern(void **state)
{
	struct index	*ix = index_new();
	struct msg	*a, *b, *c;
	size_t		 strings;

	a = mk(ix, "A1", Q_DEFERRED, "s@Sender.TEST", "Dom.Test", 1,
	    NULL);
	b = mk(ix, "A2", Q_DEFERRED, "s@Sender.TEST", "Dom.Test", 1,
	    NULL);
	c = mk(ix, "A3", Q_DEFERRED, "t@sender.test", "dom.test", 1,
	    NULL);
	/* one copy per distinct string */
	assert_ptr_equal(a->sender, b->sender);
	assert_ptr_equal(a->rcpt[0], b->rcpt[0]);
	assert_ptr_not_equal(a->rcpt[0], c->rcpt[0]);
	/* domains lower-cased and shared */
	assert_string_equal(index_domain(a->rcpt[0]), "dom.test");
	assert_ptr_equal(index_domain(a->rcpt[0]), index_domain(c->rcpt[0]));
	assert_ptr_equal(index_domain(a->sender), index_domain(c->sender));
	assert_string_equal(index_domain(a->sender), "sender.test");

	/* s@Sender.TEST t@sender.test sender.test rcpt0@Dom.Test
	 * rcpt0@dom.test dom.test */
	assert_int_equal(index_string_count(ix), 6);

	/* the null sender and an address without a domain */
	a = mk(ix, "A4", Q_DEFERRED, "", "dom.test", 0, NULL);
	assert_string_equal(a->sender, "");
	assert_string_equal(index_domain(a->sender), "");
	assert_int_equal(a->nrcpt, 0);

	/* strings go when their last message goes */
	strings = index_string_count(ix);
	index_remove(ix, "A4");
	assert_int_equal(index_string_count(ix), strings - 1);
	index_remove(ix, "A3");
	assert_int_equal(index_string_count(ix), 4);
	index_remove(ix, "A1");
	index_remove(ix, "A2");
	assert_int_equal(index_string_count(ix), 0);
	index_free(&ix);
}

static void
test_scan_sweep(void **state)
{
	struct index	*ix = index_new();
	struct index_stamp st1 = { 10, 500, 1700000000, 5 };
	struct index_stamp st2 = { 11, 500, 1700000000, 5 };
	struct index_stamp other = st1;
	struct msg	*m;

	index_scan_begin(ix);
	mk(ix, "KEEP", Q_DEFERRED, "a@x.test", "y.test", 1, &st1);
	mk(ix, "GONE", Q_DEFERRED, "a@x.test", "y.test", 1, &st2);
	mk(ix, "NOSTAMP", Q_ACTIVE, "a@x.test", "y.test", 1, NULL);
	assert_int_equal(index_scan_end(ix), 0);

	index_scan_begin(ix);
	/* same stamp: unchanged, moved to hold without a re-read */
	assert_int_equal(index_scan_unchanged(ix, "KEEP", &st1,
	    Q_HOLD, 0), 1);
	m = index_lookup(ix, "KEEP");
	assert_int_equal(m->queue, Q_HOLD);
	assert_int_equal(index_count_queue(ix, Q_HOLD), 1);
	assert_int_equal(index_count_queue(ix, Q_DEFERRED), 1);
	/* any part of the stamp changed: read again */
	other.mtime_nsec = 6;
	assert_int_equal(index_scan_unchanged(ix, "KEEP", &other,
	    Q_HOLD, 0), 0);
	other = st1;
	other.size = 501;
	assert_int_equal(index_scan_unchanged(ix, "KEEP", &other,
	    Q_HOLD, 0), 0);
	/* without a stamp: always read again */
	assert_int_equal(index_scan_unchanged(ix, "NOSTAMP", &st1,
	    Q_ACTIVE, 0), 0);
	mk(ix, "NOSTAMP", Q_ACTIVE, "a@x.test", "y.test", 1, &st1);
	assert_int_equal(index_scan_unchanged(ix, "NEW", &st1,
	    Q_ACTIVE, 0), 0);
	/* GONE was not seen */
	assert_int_equal(index_scan_end(ix), 1);
	assert_null(index_lookup(ix, "GONE"));
	assert_non_null(index_lookup(ix, "KEEP"));
	assert_non_null(index_lookup(ix, "NOSTAMP"));
	assert_int_equal(index_count(ix), 2);
	assert_int_equal(index_count_queue(ix, Q_DEFERRED), 0);
	index_free(&ix);
}

static void
test_parked_kept(void **state)
{
	struct index	*ix = index_new();
	struct msg	*m;

	m = mk(ix, "P1", Q_HOLD, "a@x.test", "y.test", 1, NULL);
	assert_int_equal(m->parked_by_ebb, 0);
	m->parked_by_ebb = 1;
	m = mk(ix, "P1", Q_HOLD, "a@x.test", "y.test", 2, NULL);
	assert_int_equal(m->parked_by_ebb, 1);
	index_free(&ix);
}

static int
count_fn(struct msg *m, void *arg)
{
	(*(size_t *)arg)++;
	return strcmp(m->queue_id, "STOP") == 0 ? 7 : 0;
}

/* many ids, half removed: the hash keeps finding the rest */
static void
test_many(void **state)
{
	struct index	*ix = index_new();
	struct msg	**v;
	char		 id[32];
	size_t		 i, n, seen = 0;

	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "%zX", i * 2654435761u % 1000003);
		mk(ix, id, (int)(i % 4), "a@x.test", "y.test", 1, NULL);
	}
	assert_int_equal(index_count(ix), 20000);
	for (i = 0; i < 20000; i += 2) {
		snprintf(id, sizeof(id), "%zX", i * 2654435761u % 1000003);
		assert_int_equal(index_remove(ix, id), 0);
	}
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "%zX", i * 2654435761u % 1000003);
		if (i % 2)
			assert_non_null(index_lookup(ix, id));
		else
			assert_null(index_lookup(ix, id));
	}
	assert_int_equal(index_count(ix), 10000);
	assert_int_equal(index_foreach(ix, count_fn, &seen), 0);
	assert_int_equal(seen, 10000);
	v = index_collect(ix, &n);
	assert_int_equal(n, 10000);
	free(v);
	mk(ix, "STOP", Q_HOLD, "a@x.test", "y.test", 1, NULL);
	seen = 0;
	assert_int_equal(index_foreach(ix, count_fn, &seen), 7);
	index_free(&ix);
}

/* the budget: at most 300 bytes per message besides the strings */
static void
test_memory(void **state)
{
	struct index	*ix = index_new();
	struct index_stamp st = { 1, 2, 3, 4 };
	char		 id[32], sender[32];
	size_t		 i, n = 100000, per;

	assert_true(sizeof(struct msg) <= 120);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%zXA%zu", i, i % 7);
		snprintf(sender, sizeof(sender), "s%zu@x.test", i % 100);
		st.ino = i;
		mk(ix, id, Q_DEFERRED, sender, "y.test", 1, &st);
	}
	per = index_memory(ix) / n;
	print_message("# %zu bytes per message with one recipient "
	    "(struct msg %zu), strings %zu bytes\n", per,
	    sizeof(struct msg), index_string_memory(ix));
	assert_true(per <= 300);
	index_free(&ix);

	/* three recipients each */
	ix = index_new();
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%zX", i);
		mk(ix, id, Q_DEFERRED, "a@x.test", "y.test", 3, &st);
	}
	per = index_memory(ix) / n;
	print_message("# %zu bytes per message with three recipients\n", per);
	assert_true(per <= 300);
	index_free(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_lookup),
		cmocka_unit_test(test_intern),
		cmocka_unit_test(test_scan_sweep),
		cmocka_unit_test(test_parked_kept),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
