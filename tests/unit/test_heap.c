/*
 * test_heap.c - the EDF heap against a plain reference
 *
 * The property test runs random pushes, pops, removes and key updates on
 * the heap and on a plain array of the live elements, and checks after every
 * step that the heap pops exactly what a linear scan of the array finds
 * first, that every live id leads to its element and that the heap order
 * holds in every position. The other cases check one rule each.
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

#include "ebb/heap.h"
#include "ebb/msg.h"
#include "ebb/util.h"

struct item {
	int	 key;
	int	 seq;		/* makes the order total */
	heap_id	 id;
};

static int
item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* check_order - every element sorts no earlier than its parent */
static void
check_order(const struct heap *h, heap_cmp_fn cmp)
{
	size_t	 i;

	for (i = 1; i < heap_size(h); i++)
		assert_true(cmp(heap_at(h, i), heap_at(h, (i - 1) / 2)) >= 0);
	assert_null(heap_at(h, heap_size(h)));
}

static void
test_empty(void **state)
{
	struct heap	*h = heap_new(item_cmp);
	heap_id		 id = 99;

	(void)state;
	assert_int_equal(heap_size(h), 0);
	assert_null(heap_peek(h, &id));
	assert_int_equal(id, 0);
	assert_null(heap_pop(h));
	assert_null(heap_get(h, 0));
	assert_null(heap_remove(h, 0));
	assert_null(heap_remove(h, 12345));
	assert_int_equal(heap_update(h, 0), -1);
	assert_null(heap_at(h, 0));
	heap_free(&h);
	assert_null(h);
	heap_free(&h);
}

static void
test_sorted_out(void **state)
{
	static const int keys[] = { 5, 3, 9, 1, 7, 3, 8, 2, 6, 4, 0, 9 };
	struct item	 it[nitems(keys)], *x, *prev = NULL;
	struct heap	*h = heap_new(item_cmp);
	size_t		 i;

	(void)state;
	for (i = 0; i < nitems(keys); i++) {
		it[i].key = keys[i];
		it[i].seq = (int)i;
		it[i].id = heap_push(h, &it[i]);
		assert_int_not_equal(it[i].id, 0);
	}
	assert_int_equal(heap_size(h), nitems(keys));
	check_order(h, item_cmp);
	while ((x = heap_pop(h)) != NULL) {
		if (prev != NULL)
			assert_true(item_cmp(prev, x) < 0);
		assert_null(heap_get(h, x->id));	/* gone: stale */
		prev = x;
	}
	heap_free(&h);
}

static void
test_stale_ids(void **state)
{
	struct item	 a = { 1, 0, 0 }, b = { 2, 1, 0 }, c = { 3, 2, 0 };
	struct heap	*h = heap_new(item_cmp);
	heap_id		 top;

	(void)state;
	a.id = heap_push(h, &a);
	b.id = heap_push(h, &b);
	assert_ptr_equal(heap_remove(h, a.id), &a);
	assert_null(heap_remove(h, a.id));		/* twice */
	assert_int_equal(heap_update(h, a.id), -1);
	/* the freed handle is reused, the old id stays stale */
	c.id = heap_push(h, &c);
	assert_true((c.id & UINT32_MAX) == (a.id & UINT32_MAX));
	assert_int_not_equal(c.id, a.id);
	assert_null(heap_get(h, a.id));
	assert_ptr_equal(heap_get(h, c.id), &c);
	assert_ptr_equal(heap_peek(h, &top), &b);
	assert_int_equal(top, b.id);
	/* ids past the table */
	assert_null(heap_get(h, (uint64_t)1 << 32 | 100000));
	heap_free(&h);
}

static void
test_update(void **state)
{
	struct item	 it[10];
	struct heap	*h = heap_new(item_cmp);
	int		 i;

	(void)state;
	for (i = 0; i < 10; i++) {
		it[i].key = i * 10;
		it[i].seq = i;
		it[i].id = heap_push(h, &it[i]);
	}
	it[7].key = -1;				/* moves to the top */
	assert_int_equal(heap_update(h, it[7].id), 0);
	assert_ptr_equal(heap_peek(h, NULL), &it[7]);
	it[7].key = 1000;			/* and to the bottom */
	assert_int_equal(heap_update(h, it[7].id), 0);
	assert_ptr_equal(heap_peek(h, NULL), &it[0]);
	check_order(h, item_cmp);
	for (i = 0; i < 9; i++)
		assert_int_not_equal(((struct item *)heap_pop(h))->seq, 7);
	assert_ptr_equal(heap_pop(h), &it[7]);
	heap_free(&h);
}

/* ref_min - the first of the n live items by a linear scan */
static size_t
ref_min(struct item **live, size_t n)
{
	size_t	 i, m = 0;

	for (i = 1; i < n; i++)
		if (item_cmp(live[i], live[m]) < 0)
			m = i;
	return m;
}

static void
test_random_against_reference(void **state)
{
	enum { OPS = 40000, POOL = 4096 };
	struct item	*pool, **live, *x;
	heap_id		*dead;
	struct heap	*h = heap_new(item_cmp);
	size_t		 nlive = 0, ndead = 0, nfree, i, k, m;
	size_t		 pushes = 0, pops = 0, removes = 0, updates = 0;
	int		 op, seq = 0;

	(void)state;
	pool = xcalloc(POOL, sizeof(*pool));
	live = xcalloc(POOL, sizeof(*live));
	dead = xcalloc(OPS, sizeof(*dead));
	/* free pool items are the ones not in live[]: track by seq = -1 */
	for (i = 0; i < POOL; i++)
		pool[i].seq = -1;
	nfree = POOL;
	srandom(42);
	for (i = 0; i < OPS; i++) {
		op = (int)(random() % 100);
		if (op < 45 && nfree > 0) {
			for (k = (size_t)random() % POOL; pool[k].seq != -1;
			    k = (k + 1) % POOL)
				;
			x = &pool[k];
			x->key = (int)(random() % 500);	/* many ties */
			x->seq = seq++;
			x->id = heap_push(h, x);
			live[nlive++] = x;
			nfree--;
			pushes++;
		} else if (op < 65 && nlive > 0) {
			m = ref_min(live, nlive);
			x = heap_pop(h);
			assert_ptr_equal(x, live[m]);
			dead[ndead++] = x->id;
			x->seq = -1;
			live[m] = live[--nlive];
			nfree++;
			pops++;
		} else if (op < 85 && nlive > 0) {
			m = (size_t)random() % nlive;
			x = live[m];
			assert_ptr_equal(heap_remove(h, x->id), x);
			dead[ndead++] = x->id;
			x->seq = -1;
			live[m] = live[--nlive];
			nfree++;
			removes++;
		} else if (op < 95 && nlive > 0) {
			x = live[(size_t)random() % nlive];
			x->key = (int)(random() % 500);
			assert_int_equal(heap_update(h, x->id), 0);
			updates++;
		} else if (ndead > 0) {
			k = (size_t)random() % ndead;
			assert_null(heap_get(h, dead[k]));
			assert_null(heap_remove(h, dead[k]));
			assert_int_equal(heap_update(h, dead[k]), -1);
		}
		assert_int_equal(heap_size(h), nlive);
		if (nlive > 0)
			assert_ptr_equal(heap_peek(h, NULL),
			    live[ref_min(live, nlive)]);
		if (i % 97 == 0) {
			check_order(h, item_cmp);
			for (k = 0; k < nlive; k++)
				assert_ptr_equal(heap_get(h, live[k]->id),
				    live[k]);
		}
	}
	assert_true(pushes > 10000 && pops > 4000 && removes > 4000 &&
	    updates > 2000);
	/* drain what is left in order */
	while (nlive > 0) {
		m = ref_min(live, nlive);
		assert_ptr_equal(heap_pop(h), live[m]);
		live[m] = live[--nlive];
	}
	assert_null(heap_pop(h));
	heap_free(&h);
	free(dead);
	free(live);
	free(pool);
}

static int
int_cmp(const void *a, const void *b)
{
	int	 x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* 200,000 elements: the arrays grow, and everything comes out sorted */
static void
test_large(void **state)
{
	enum { N = 200000 };
	struct heap	*h = heap_new(int_cmp);
	int		*v = xcalloc(N, sizeof(*v)), *x;
	int		 i, prev = -1;

	(void)state;
	srandom(7);
	for (i = 0; i < N; i++) {
		v[i] = (int)(random() % 1000000);
		heap_push(h, &v[i]);
	}
	assert_int_equal(heap_size(h), N);
	for (i = 0; i < N; i++) {
		x = heap_pop(h);
		assert_true(*x >= prev);
		prev = *x;
	}
	assert_int_equal(heap_size(h), 0);
	heap_free(&h);
	free(v);
}

/* the drain's order: deadline, then arrival, then queue id */
static void
test_msg_order(void **state)
{
	static const struct {
		const char	*id;
		time_t		 deadline;
		time_t		 arrival;
	} in[] = {
		{ "C3", 3000, 10 },
		{ "A1", 1000, 50 },
		{ "B2", 1000, 20 },
		{ "D4", 1000, 20 },
		{ "AA", 1000, 20 },
		{ "E5", 500, 900 },
		{ "F6", 3000, 5 },
	};
	static const char *const want[] = {
		"E5", "AA", "B2", "D4", "A1", "F6", "C3",
	};
	struct msg	 m[nitems(in)], *x;
	struct heap	*h = heap_new(heap_msg_cmp);
	size_t		 i;

	(void)state;
	memset(m, 0, sizeof(m));
	for (i = 0; i < nitems(in); i++) {
		ebb_strlcpy(m[i].queue_id, in[i].id, sizeof(m[i].queue_id));
		m[i].deadline = in[i].deadline;
		m[i].arrival_time = in[i].arrival;
		heap_push(h, &m[i]);
	}
	for (i = 0; i < nitems(want); i++) {
		x = heap_pop(h);
		assert_non_null(x);
		assert_string_equal(x->queue_id, want[i]);
	}
	assert_int_equal(heap_msg_cmp(&m[0], &m[0]), 0);
	heap_free(&h);
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_sorted_out),
		cmocka_unit_test(test_stale_ids),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_random_against_reference),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_msg_order),
	};

	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
