/*
 * test_config_docs.c - the key table, ebb.conf(5) and the sample agree
 *
 * Fails when a key is in the table but not documented, documented but not in
 * the table, or documented with another default, type or range than the
 * table's; and the same for contrib/ebb.conf.sample (every key commented out
 * at its default, with its help line above it).
 *
 * The man page lists the keys of each section under ".Ss [section]", one
 * ".It Ic key No = Ar type" (or "Cm a | b" for an enum) per key, and in the
 * key's text a line "Default:" followed by ".Li value", or a line starting
 * with "Default: empty" when the default is empty.
 *
 * The documents name the usual /etc/ebb and /var/lib/ebb; they are read
 * here as make install writes them (mk/install.am), with this build's
 * --sysconfdir and --localstatedir in their place.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/util.h"

#define LINES_MAX	2000

struct doc {			/* a file split into lines */
	char	*text;
	char	*line[LINES_MAX];
	size_t	 nlines;
};

/*
 * doc_paths - text with the documented paths replaced by this build's, into
 * out (NULL: only count); returns the length
 */
static size_t
doc_paths(const char *text, char *out)
{
	static const struct {
		const char	*doc, *build;
	} paths[] = {
		{ "/etc/ebb", SYSCONFDIR "/ebb" },
		{ "/var/lib/ebb", LOCALSTATEDIR "/lib/ebb" },
	};
	const char	*t = text;
	size_t		 i, n, len = 0;

	while (*t != '\0') {
		for (i = 0; i < nitems(paths); i++) {
			n = strlen(paths[i].doc);
			/* strchr finds the NUL too: the path ends the text */
			if (strncmp(t, paths[i].doc, n) == 0 &&
			    strchr("/ \n.,", t[n]) != NULL)
				break;
		}
		if (i < nitems(paths)) {
			n = strlen(paths[i].build);
			if (out != NULL)
				memcpy(out + len, paths[i].build, n);
			len += n;
			t += strlen(paths[i].doc);
		} else {
			if (out != NULL)
				out[len] = *t;
			len++;
			t++;
		}
	}
	if (out != NULL)
		out[len] = '\0';
	return len;
}

/* doc_read - read top_srcdir/name into lines, as make install writes it */
static struct doc *
doc_read(const char *name)
{
	const char	*top = getenv("top_srcdir");
	struct doc	*d = xcalloc(1, sizeof(*d));
	char		*path, *p, *raw;
	size_t		 len = 0;
	FILE		*fp;

	path = xasprintf("%s/%s", top != NULL ? top : ".", name);
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	raw = xmalloc(1024 * 1024);
	len = fread(raw, 1, 1024 * 1024 - 1, fp);
	fclose(fp);
	raw[len] = '\0';
	d->text = xmalloc(doc_paths(raw, NULL) + 1);
	doc_paths(raw, d->text);
	free(raw);
	for (p = d->text; *p != '\0' && d->nlines < LINES_MAX; ) {
		d->line[d->nlines++] = p;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		*p++ = '\0';
	}
	free(path);
	return d;
}

static void
doc_free(struct doc *d)
{
	free(d->text);
	free(d);
}

/* man_section - the [section] of a ".Ss [section]" line, else NULL */
static const char *
man_section(const char *line, char *buf, size_t len)
{
	size_t	 n;

	if (strncmp(line, ".Ss [", 5) != 0)
		return NULL;
	n = strcspn(line + 5, "]");
	if (n >= len)
		return NULL;
	memcpy(buf, line + 5, n);
	buf[n] = '\0';
	return buf;
}

/* man_key - the key named by an ".It Ic key No = ..." line, else NULL */
static const char *
man_key(const char *line, char *buf, size_t len)
{
	size_t	 n;

	if (strncmp(line, ".It Ic ", 7) != 0)
		return NULL;
	n = strcspn(line + 7, " ");
	if (n >= len)
		return NULL;
	memcpy(buf, line + 7, n);
	buf[n] = '\0';
	return buf;
}

/* man_entry - the line index of key's ".It" in the man page, or -1 */
static long
man_entry(const struct doc *man, const struct config_key *key, int *count_r)
{
	char		 sec[64] = "", name[64];
	const char	*s, *k;
	long		 found = -1;
	size_t		 i;

	*count_r = 0;
	for (i = 0; i < man->nlines; i++) {
		if ((s = man_section(man->line[i], sec, sizeof(sec))) != NULL)
			continue;
		if (strncmp(man->line[i], ".Sh ", 4) == 0)
			sec[0] = '\0';
		k = man_key(man->line[i], name, sizeof(name));
		if (k != NULL && strcmp(sec, key->section) == 0 &&
		    strcmp(k, key->name) == 0) {
			found = (long)i;
			(*count_r)++;
		}
	}
	return found;
}

static void
test_man_documents_every_key(void **state)
{
	struct doc	*man = doc_read("man/ebb.conf.5");
	size_t		 i;
	int		 n, bad = 0;

	for (i = 0; i < config_nkeys; i++) {
		man_entry(man, &config_keys[i], &n);
		if (n != 1) {
			print_error("ebb.conf.5: [%s] %s documented %d times\n",
			    config_keys[i].section, config_keys[i].name, n);
			bad++;
		}
	}
	doc_free(man);
	assert_int_equal(bad, 0);
}

static void
test_man_has_no_other_keys(void **state)
{
	struct doc	*man = doc_read("man/ebb.conf.5");
	char		 sec[64] = "", name[64];
	const char	*k;
	size_t		 i;
	int		 bad = 0, keys = 0;

	for (i = 0; i < man->nlines; i++) {
		if (man_section(man->line[i], sec, sizeof(sec)) != NULL)
			continue;
		if (strncmp(man->line[i], ".Sh ", 4) == 0)
			sec[0] = '\0';
		if (sec[0] == '\0' ||
		    (k = man_key(man->line[i], name, sizeof(name))) == NULL)
			continue;
		keys++;
		if (config_key_find(sec, k) == NULL) {
			print_error("ebb.conf.5:%zu: [%s] %s is not in the "
			    "key table\n", i + 1, sec, k);
			bad++;
		}
	}
	doc_free(man);
	assert_int_equal(bad, 0);
	assert_int_equal(keys, (int)config_nkeys);
}

/* range_text - "MIN to MAX" of a numeric key, as config_print writes them */
static char *
range_text(const struct config_key *key)
{
	struct config	*cfg = config_defaults();
	char		*field = (char *)cfg + key->offset, *lo, *hi, *text;
	int		 i;

	for (i = 0; i < 2; i++) {
		double	 v = i == 0 ? key->min : key->max;

		switch (key->type) {
		case CONFIG_INTEGER:
		case CONFIG_DURATION:
			*(long *)field = (long)v;
			break;
		case CONFIG_SIZE:
			*(long long *)field = (long long)v;
			break;
		default:
			*(double *)field = v;
			break;
		}
		if (i == 0)
			lo = config_key_format(cfg, key);
		else
			hi = config_key_format(cfg, key);
	}
	text = xasprintf("%s to %s", lo, hi);
	free(lo);
	free(hi);
	config_free(&cfg);
	return text;
}

/* entry_end - the line after the last of the man entry starting at it */
static size_t
entry_end(const struct doc *man, size_t it)
{
	size_t	 i;

	for (i = it + 1; i < man->nlines; i++)
		if (strncmp(man->line[i], ".It ", 4) == 0 ||
		    strcmp(man->line[i], ".El") == 0)
			break;
	return i;
}

/* entry_default - the default an entry documents, allocated, or NULL */
static char *
entry_default(const struct doc *man, size_t it)
{
	size_t	 i, end = entry_end(man, it), len;
	char	*v;

	for (i = it + 1; i < end; i++) {
		if (strncmp(man->line[i], "Default: empty", 14) == 0)
			return xstrdup("");
		if (strcmp(man->line[i], "Default:") != 0 || i + 1 >= end ||
		    strncmp(man->line[i + 1], ".Li ", 4) != 0)
			continue;
		v = xstrdup(man->line[i + 1] + 4);
		len = strlen(v);
		if (len >= 2 && v[len - 2] == ' ' && strchr(".,;", v[len - 1]))
			v[len - 2] = '\0';	/* closing punctuation */
		return v;
	}
	return NULL;
}

static void
test_man_defaults_types_ranges(void **state)
{
	struct doc	*man = doc_read("man/ebb.conf.5");
	const struct config_key *key;
	char		*def, *range, *want, *body;
	const char	*rest;
	size_t		 i, j, end;
	long		 it;
	int		 n, bad = 0;

	for (i = 0; i < config_nkeys; i++) {
		key = &config_keys[i];
		if ((it = man_entry(man, key, &n)) < 0)
			continue;	/* reported by the test above */
		def = entry_default(man, (size_t)it);
		if (def == NULL || strcmp(def, key->def) != 0) {
			print_error("ebb.conf.5: %s: default \"%s\", the "
			    "table has \"%s\"\n", key->name,
			    def != NULL ? def : "(none)", key->def);
			bad++;
		}
		free(def);

		/* the type after "No =": "Ar duration" or "Cm a | b" */
		rest = strstr(man->line[it], " No = ");
		if (key->type == CONFIG_ENUM) {
			want = xasprintf("Cm %s", key->values[0]);
			for (j = 1; key->values[j] != NULL; j++) {
				char *more = xasprintf("%s | %s", want,
				    key->values[j]);

				free(want);
				want = more;
			}
		} else
			want = xasprintf("Ar %s", config_type_name(key->type));
		if (rest == NULL || strcmp(rest + 6, want) != 0) {
			print_error("ebb.conf.5: %s: \"%s\", want \"... No = "
			    "%s\"\n", key->name, man->line[it], want);
			bad++;
		}
		free(want);

		if (key->type > CONFIG_REAL || key->type == CONFIG_BOOL)
			continue;
		/* a number's range, as "MIN to MAX", somewhere in its text */
		end = entry_end(man, (size_t)it);
		body = xstrdup("");
		for (j = (size_t)it + 1; j < end; j++) {
			char *more = xasprintf("%s %s", body, man->line[j]);

			free(body);
			body = more;
		}
		range = range_text(key);
		if (strstr(body, range) == NULL) {
			print_error("ebb.conf.5: %s: the range \"%s\" is not "
			    "in its text\n", key->name, range);
			bad++;
		}
		free(range);
		free(body);
	}
	doc_free(man);
	assert_int_equal(bad, 0);
}

/* sample_key - the key of a "#key = value" sample line, value in *val_r */
static const char *
sample_key(const char *line, char *buf, size_t len, const char **val_r)
{
	size_t	 n;

	if (line[0] != '#' || line[1] == ' ' || line[1] == '\0')
		return NULL;
	n = strspn(line + 1, "abcdefghijklmnopqrstuvwxyz_");
	if (n == 0 || n >= len || strncmp(line + 1 + n, " =", 2) != 0)
		return NULL;
	memcpy(buf, line + 1, n);
	buf[n] = '\0';
	*val_r = line + 1 + n + 2;
	if (**val_r == ' ')
		(*val_r)++;
	return buf;
}

static void
test_sample_lists_every_key(void **state)
{
	struct doc	*sample = doc_read("contrib/ebb.conf.sample");
	const struct config_key *key;
	char		 sec[64] = "", name[64];
	const char	*k, *val;
	int		 seen[256] = { 0 }, bad = 0;
	size_t		 i, n;

	assert_true(config_nkeys <= nitems(seen));
	for (i = 0; i < sample->nlines; i++) {
		const char *line = sample->line[i];

		if (line[0] == '[') {
			n = strcspn(line + 1, "]");
			assert_true(n < sizeof(sec));
			memcpy(sec, line + 1, n);
			sec[n] = '\0';
			continue;
		}
		if ((k = sample_key(line, name, sizeof(name), &val)) == NULL)
			continue;
		if ((key = config_key_find(sec, k)) == NULL) {
			print_error("ebb.conf.sample:%zu: [%s] %s is not in "
			    "the key table\n", i + 1, sec, k);
			bad++;
			continue;
		}
		seen[key - config_keys]++;
		if (strcmp(val, key->def) != 0) {
			print_error("ebb.conf.sample:%zu: %s = \"%s\", the "
			    "table's default is \"%s\"\n", i + 1, k, val,
			    key->def);
			bad++;
		}
		if (i == 0 || strncmp(sample->line[i - 1], "# ", 2) != 0 ||
		    strcmp(sample->line[i - 1] + 2, key->help) != 0) {
			print_error("ebb.conf.sample:%zu: the line above %s "
			    "is not its help \"# %s\"\n", i + 1, k,
			    key->help);
			bad++;
		}
	}
	for (i = 0; i < config_nkeys; i++)
		if (seen[i] != 1) {
			print_error("ebb.conf.sample: [%s] %s listed %d "
			    "times\n", config_keys[i].section,
			    config_keys[i].name, seen[i]);
			bad++;
		}
	doc_free(sample);
	assert_int_equal(bad, 0);
}

static void
test_sample_loads(void **state)
{
	struct doc	*sample = doc_read("contrib/ebb.conf.sample");
	struct config	*cfg = NULL, *defaults = config_defaults();
	const char	*dir = getenv("TMPDIR"), *val;
	char		*path, *err, name[64], *got, *want;
	size_t		 i;
	FILE		*fp;
	int		 fd;

	/* the sample with every key uncommented is the defaults */
	path = xasprintf("%s/test_config_docs.XXXXXX",
	    dir != NULL ? dir : "/tmp");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	for (i = 0; i < sample->nlines; i++)
		fprintf(fp, "%s\n", sample_key(sample->line[i], name,
		    sizeof(name), &val) != NULL ? sample->line[i] + 1 :
		    sample->line[i]);
	fclose(fp);
	if (config_load(path, &cfg, &err) == -1)
		fail_msg("the uncommented sample: %s", err);
	unlink(path);
	free(path);
	for (i = 0; i < config_nkeys; i++) {
		got = config_key_format(cfg, &config_keys[i]);
		want = config_key_format(defaults, &config_keys[i]);
		assert_string_equal(got, want);
		free(got);
		free(want);
	}
	config_free(&cfg);
	config_free(&defaults);
	doc_free(sample);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_documents_every_key),
		cmocka_unit_test(test_man_has_no_other_keys),
		cmocka_unit_test(test_man_defaults_types_ranges),
		cmocka_unit_test(test_sample_lists_every_key),
		cmocka_unit_test(test_sample_loads),
	};

	return cmocka_run_group_tests_name("config_docs", tests, NULL, NULL);
}
