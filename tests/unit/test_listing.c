/*
 * test_listing.c - what "ebbctl list" shows, as ebbctl and ebbd choose it
 *
 * listing_select against a reference (filter, then sort all) over a
 * pseudo-random index with ties in every key: for each order, limits
 * around the queue's size and a queue filter, the same messages in the
 * same order, and the summary counts every mark. Then a message through
 * the wire form ebbd sends (listing_msg_json) and back, bytes that are not
 * UTF-8 included, and the malformed objects listing_msg_parse refuses.
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
#include <jansson.h>

#include "ebb/index.h"
#include "ebb/listing.h"
#include "ebb/msg.h"
#include "ebb/mta.h"
#include "ebb/util.h"
#include "fake_mta.h"

#define N	300

static int	 ref_sort;

/* ref_cmp - the orders as listing.h states them */
static int
ref_cmp(const void *a, const void *b)
{
	const struct msg *x = *(const struct msg *const *)a;
	const struct msg *y = *(const struct msg *const *)b;

	switch (ref_sort) {
	case LISTING_SORT_DEADLINE:
		if (x->deadline != y->deadline)
			return x->deadline < y->deadline ? -1 : 1;
		/* FALLTHROUGH */
	case LISTING_SORT_AGE:
		if (x->arrival_time != y->arrival_time)
			return x->arrival_time < y->arrival_time ? -1 : 1;
		break;
	case LISTING_SORT_SIZE:
		if (x->size != y->size)
			return x->size > y->size ? -1 : 1;
		break;
	}
	return strcmp(x->queue_id, y->queue_id);
}

/* fill - N messages, few distinct keys (ties), every queue, some unreadable */
static struct index *
fill(void)
{
	struct index	*ix = index_new();
	struct msg	 m;
	const char	*rcpt[1] = { "r@d.test" };
	uint32_t	 seed = 12345;
	size_t		 i;

	for (i = 0; i < N; i++) {
		memset(&m, 0, sizeof(m));
		seed = seed * 1103515245 + 12345;
		snprintf(m.queue_id, sizeof(m.queue_id), "Q%05x", seed >> 12);
		m.queue = (uint8_t)((seed >> 8) % FAKE_QUEUE_COUNT);
		m.arrival_time = 1000 + (seed >> 4) % 7;
		m.create_time = m.arrival_time;
		m.deadline = 5000 + (seed >> 16) % 9;
		m.size = 100 + (seed >> 20) % 5;
		m.parked_by_ebb = m.queue == FAKE_HOLD && (seed & 0x40);
		m.flags = (seed >> 24) % 17 == 0 ? MSG_F_UNREADABLE : 0;
		m.sender = "s@s.test";
		m.rcpt = rcpt;
		m.nrcpt = 1;
		index_put(ix, &m, NULL);
	}
	return ix;
}

static void
test_select(void **state)
{
	static const size_t limits[] = { 0, 1, 2, 7, 50, N - 1, N, N + 5 };
	struct fake_mta	*f = fake_mta_new();
	struct mta	*mta = fake_mta_mta(f);
	struct index	*ix = fill();
	struct listing_summary sum, want;
	struct msg	**all, **ref, **v;
	size_t		 nall, nref, n, i, li;
	int		 queue, sort;
	char		 mark;

	(void)state;
	all = index_collect(ix, &nall);
	ref = xreallocarray(NULL, nall, sizeof(*ref));
	for (queue = -1; queue < FAKE_QUEUE_COUNT; queue++) {
		memset(&want, 0, sizeof(want));
		for (i = nref = 0; i < nall; i++) {
			if ((all[i]->flags & MSG_F_UNREADABLE) ||
			    (queue >= 0 && all[i]->queue != queue))
				continue;
			ref[nref++] = all[i];
			want.count++;
			want.bytes += all[i]->size;
			mark = listing_mark(mta, all[i]);
			want.active += mark == '*';
			want.parked += mark == '~';
			want.admin += mark == '!';
		}
		for (sort = 0; sort < LISTING_SORT_COUNT; sort++) {
			ref_sort = sort;
			qsort(ref, nref, sizeof(*ref), ref_cmp);
			for (li = 0; li < nitems(limits); li++) {
				v = listing_select(ix, mta, queue, sort,
				    limits[li], &n, &sum);
				assert_int_equal(n, limits[li] == 0 ||
				    limits[li] > nref ? nref : limits[li]);
				for (i = 0; i < n; i++)
					if (v[i] != ref[i])
						fail_msg("queue %d sort %d "
						    "limit %zu: #%zu is %s, "
						    "not %s", queue, sort,
						    limits[li], i,
						    v[i]->queue_id,
						    ref[i]->queue_id);
				assert_memory_equal(&sum, &want, sizeof(sum));
				free(v);
			}
		}
	}
	assert_true(want.count > 0);
	free(ref);
	free(all);
	index_free(&ix);
	fake_mta_free(&f);
}

static void
test_wire(void **state)
{
	struct fake_mta	*f = fake_mta_new();
	struct mta	*mta = fake_mta_mta(f);
	const char	*rcpt[3] = { "a@x.test", "b\xff@y.test", "\xc3\xa9@z" };
	struct msg	 m, back;
	json_t		*o;
	char		*err = NULL;
	uint32_t	 i;

	(void)state;
	memset(&m, 0, sizeof(m));
	ebb_strlcpy(m.queue_id, "4XyZ09", sizeof(m.queue_id));
	m.queue = FAKE_HOLD;
	m.parked_by_ebb = 1;
	m.arrival_time = 1700000000;
	m.create_time = 1699999000;
	m.deadline = 1700400000;
	m.next_retry = 1700000600;
	m.size = 123456789012ULL;
	m.sender = "bad\x80\x01sender";
	m.rcpt = rcpt;
	m.nrcpt = 3;
	o = listing_msg_json(mta, &m);
	if (listing_msg_parse(mta, o, &back, &err) == -1)
		fail_msg("refused: %s", err);
	json_decref(o);
	assert_string_equal(back.queue_id, m.queue_id);
	assert_int_equal(back.queue, m.queue);
	assert_int_equal(back.parked_by_ebb, 1);
	assert_int_equal(back.arrival_time, m.arrival_time);
	assert_int_equal(back.create_time, m.create_time);
	assert_int_equal(back.deadline, m.deadline);
	assert_int_equal(back.next_retry, m.next_retry);
	assert_true(back.size == m.size);
	assert_string_equal(back.sender, m.sender);
	assert_int_equal(back.nrcpt, 3);
	for (i = 0; i < 3; i++)
		assert_string_equal(back.rcpt[i], rcpt[i]);
	/* the fake MTA knows no reason: none, and it is ebbd's word */
	assert_null(back.reason);
	assert_true(back.flags & MSG_F_REASON_TEXT);
	listing_msg_clear(&back);
	fake_mta_free(&f);
}

static void
test_wire_bad(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"queue\":\"hold\",\"arrival\":1,\"create\":1,\"deadline\":1,"
		    "\"next_retry\":0,\"size\":1,\"sender\":\"\",\"rcpt\":[],"
		    "\"parked\":false,\"reason\":null}",
		"{\"id\":\"A;B\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":[],\"parked\":false,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"nope\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":[],\"parked\":false,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":-1,\"sender\":\"\","
		    "\"rcpt\":[],\"parked\":false,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":[],\"parked\":false,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":"
		    "{\"hex\":\"616\"},\"rcpt\":[],\"parked\":false,"
		    "\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":"
		    "{\"hex\":\"6100\"},\"rcpt\":[],\"parked\":false,"
		    "\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":"
		    "{\"hex\":\"zz\"},\"rcpt\":[],\"parked\":false,"
		    "\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":\"a@b\",\"parked\":false,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":[\"a\",7],\"parked\":false,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":[],\"parked\":0,\"reason\":null}",
		"{\"id\":\"AB\",\"queue\":\"hold\",\"arrival\":1,\"create\":1,"
		    "\"deadline\":1,\"next_retry\":0,\"size\":1,\"sender\":\"\","
		    "\"rcpt\":[],\"parked\":false}",
	};
	struct fake_mta	*f = fake_mta_new();
	struct mta	*mta = fake_mta_mta(f);
	json_error_t	 jerr;
	struct msg	 m;
	json_t		*o;
	char		*err = NULL;
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		if ((o = json_loads(bad[i], 0, &jerr)) == NULL)
			fail_msg("%zu: %s", i, jerr.text);
		if (listing_msg_parse(mta, o, &m, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(err);
		free(err);
		err = NULL;
		json_decref(o);
	}
	fake_mta_free(&f);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_wire_bad),
	};

	return cmocka_run_group_tests_name("listing", tests, NULL, NULL);
}
