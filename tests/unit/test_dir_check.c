/*
 * test_dir_check.c - which directories root may keep its state in
 *
 * A table of owners and modes for the rule, then real directories for the
 * walk (the ones owned by another user only when running as root).
 */
#include "config.h"

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/dir_check.h"
#include "ebb/util.h"

static void
test_mode(void **state)
{
	static const struct {
		uid_t		 owner;
		mode_t		 mode;
		int		 leaf;
		const char	*why;	/* NULL: safe */
	} cases[] = {
		{ 0, S_IFDIR | 0750, 1, NULL },
		{ 0, S_IFDIR | 0755, 1, NULL },
		{ 0, S_IFDIR | 0700, 0, NULL },
		{ 0, S_IFDIR | 0555, 1, NULL },
		{ 0, S_IFDIR | 01777, 0, NULL },	/* /tmp above */
		{ 0, S_IFDIR | 01777, 1, "is writable by its group" },
		{ 0, S_IFDIR | 01755, 1, NULL },
		{ 0, S_IFDIR | 0770, 1, "is writable by its group" },
		{ 0, S_IFDIR | 0770, 0, "is writable by its group" },
		{ 0, S_IFDIR | 0757, 1, "is writable by others" },
		{ 0, S_IFDIR | 0777, 0, "is writable by its group" },
		{ 0, S_IFDIR | 0703, 0, "is writable by others" },
		{ 0, S_IFDIR | 02750, 1, NULL },	/* setgid: fine */
		{ 65534, S_IFDIR | 0700, 1,
		  "is owned by uid 65534, not root" },
		{ 999, S_IFDIR | 0755, 0, "is owned by uid 999, not root" },
		{ 999, S_IFDIR | 01777, 0, "is owned by uid 999, not root" },
		{ 0, S_IFREG | 0600, 1, "is not a directory" },
		{ 0, S_IFLNK | 0777, 0, "is not a directory" },
		{ 0, S_IFSOCK | 0600, 1, "is not a directory" },
	};
	char	*why;
	size_t	 i;
	int	 rc;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		why = NULL;
		rc = dir_check_mode(cases[i].owner, cases[i].mode,
		    cases[i].leaf, &why);
		if (cases[i].why == NULL) {
			if (rc != 0)
				fail_msg("case %zu (%o) refused: %s", i,
				    (unsigned)cases[i].mode, why);
			continue;
		}
		if (rc != -1)
			fail_msg("case %zu (%o) taken", i,
			    (unsigned)cases[i].mode);
		assert_string_equal(why, cases[i].why);
		free(why);
	}
}

/* a real tree under a private directory of /tmp */
static void
test_path(void **state)
{
	char	 base[] = "/tmp/test_dir_check.XXXXXX";
	char	*a, *b, *link, *why = NULL, *want;
	int	 missing;

	(void)state;
	if (getuid() != 0)
		skip();			/* the tree must be root's */
	assert_non_null(mkdtemp(base));
	a = xasprintf("%s/a", base);
	b = xasprintf("%s/a/b", base);
	link = xasprintf("%s/l", base);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0750), 0);
	assert_int_equal(symlink(b, link), 0);

	assert_int_equal(dir_check_path(b, 0, &missing, &why), 0);
	assert_int_equal(missing, 0);
	assert_int_equal(dir_check_path(link, 0, &missing, &why), 0);
	free(b);
	b = xasprintf("%s/a/b/new", base);
	assert_int_equal(dir_check_path(b, 0, &missing, &why), 0);
	assert_int_equal(missing, 1);
	free(b);
	b = xasprintf("%s/a/nope/new", base);
	assert_int_equal(dir_check_path(b, 0, &missing, &why), -1);
	free(why);
	free(b);
	b = xasprintf("%s/a/b", base);

	/* another user's directory, the leaf or above it */
	assert_int_equal(chown(b, 65534, 65534), 0);
	assert_int_equal(dir_check_path(b, 0, &missing, &why), -1);
	want = xasprintf("%s is owned by uid 65534, not root", b);
	assert_string_equal(why, want);
	free(want);
	free(why);
	assert_int_equal(chown(b, 0, 0), 0);
	assert_int_equal(chmod(a, 0777), 0);
	assert_int_equal(dir_check_path(link, 0, &missing, &why), -1);
	want = xasprintf("%s is writable by its group", a);
	assert_string_equal(why, want);
	free(want);
	free(why);
	assert_int_equal(chmod(a, 01777), 0);	/* sticky above: fine */
	assert_int_equal(dir_check_path(b, 0, &missing, &why), 0);
	assert_int_equal(chmod(b, 01777), 0);	/* the leaf: only if allowed */
	assert_int_equal(dir_check_path(b, 0, &missing, &why), -1);
	free(why);
	assert_int_equal(dir_check_path(b, 1, &missing, &why), 0);

	unlink(link);
	rmdir(b);
	rmdir(a);
	rmdir(base);
	free(a);
	free(b);
	free(link);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests_name("dir_check", tests, NULL, NULL);
}
