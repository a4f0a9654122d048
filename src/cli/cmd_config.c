/*
 * cmd_config.c - ebbctl config: the configuration, postconf-style
 *
 * ebbctl config [-d] [-n] [KEY...] prints every key of ebb.conf with its
 * effective value (the file named by -c, or the default file, over the
 * defaults) as ebb.conf text that ebbd -n accepts. -d prints the defaults
 * instead, -n only the keys set to something else than their default. With
 * --json the same values come as one JSON object of sections, each an
 * object of "key": "value" strings written as in ebb.conf.
 *
 * With KEYs, like "postconf KEY": only those, one "KEY = value" line each,
 * in the order given, KEY as given. A KEY is a key's name, or section.name
 * where the name is in more than one section (socket). An unknown or ambiguous KEY is an
 * error naming it, nothing is printed for it, and the exit is 64.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/config_table.h"
#include "ebb/util.h"
#include "cmd.h"

static int	cmd_config_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_config_entry = {
	"config", "[-d] [-n] [KEY...]",
	"the configuration, postconf-style (-d defaults, -n changed)",
	"  KEY...       only these keys (name, or section.name), as postconf\n"
	"               KEY prints them\n"
	"  -d           the defaults, not the effective values\n"
	"  -n           only the keys set to something else than the default\n"
	"  --json       {\"section\": {\"key\": \"value\"}}\n",
	cmd_config_exec
};

/*
 * config_lookup - the key KEY names ("name" or "section.name"), or NULL and
 * an error on stderr
 */
static const struct config_key *
config_lookup(const char *name)
{
	const struct config_key *found = NULL;
	const char	*dot = strchr(name, '.');
	size_t		 i, n = 0;

	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];
		size_t	 slen = strlen(k->section);

		if (dot != NULL ? (strncmp(name, k->section, slen) == 0 &&
		    name + slen == dot && strcmp(dot + 1, k->name) == 0) :
		    strcmp(name, k->name) == 0) {
			found = k;
			n++;
		}
	}
	if (n == 1)
		return found;
	if (n == 0)
		fprintf(stderr, "ebbctl config: unknown key \"%s\" (ebbctl "
		    "config -d lists them all)\n", name);
	else {
		fprintf(stderr, "ebbctl config: \"%s\" is in more than one "
		    "section; name one of", name);
		for (i = 0; i < config_nkeys; i++)
			if (strcmp(name, config_keys[i].name) == 0)
				fprintf(stderr, " %s.%s",
				    config_keys[i].section, name);
		fputc('\n', stderr);
	}
	return NULL;
}

/* config_wanted - whether key i is printed: all, or one of keys[] */
static int
config_wanted(const struct config_key *const *keys, size_t nkeys, size_t i)
{
	size_t	 k;

	if (keys == NULL)
		return 1;
	for (k = 0; k < nkeys; k++)
		if (keys[k] == &config_keys[i])
			return 1;
	return 0;
}

/* config_json - print cfg as {"section": {"key": "value"}} */
static int
config_json(const struct config *cfg, int changed_only,
    const struct config_key *const *keys, size_t nkeys)
{
	json_t	*root, *section;
	char	*val;
	size_t	 i;
	int	 rc;

	root = json_object();
	for (i = 0; i < config_nkeys; i++) {
		if (!config_wanted(keys, nkeys, i))
			continue;
		val = config_key_format(cfg, &config_keys[i]);
		if (changed_only && strcmp(val, config_keys[i].def) == 0) {
			free(val);
			continue;
		}
		if ((section = json_object_get(root,
		    config_keys[i].section)) == NULL) {
			section = json_object();
			json_object_set_new(root, config_keys[i].section,
			    section);
		}
		json_object_set_new(section, config_keys[i].name,
		    json_string(val));
		free(val);
	}
	rc = json_dumpf(root, stdout, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(root);
	if (rc == -1)
		return 1;
	putchar('\n');
	return 0;
}

/*
 * config_keys_print - "KEY = value" for each of keys[], in their order,
 * each named as names[] names it (name or section.name)
 */
static int
config_keys_print(const struct config *cfg, int changed_only,
    const struct config_key *const *keys, char *const *names, size_t nkeys)
{
	char	*val;
	size_t	 k;

	for (k = 0; k < nkeys; k++) {
		if (keys[k] == NULL)
			continue;
		val = config_key_format(cfg, keys[k]);
		if (!changed_only || strcmp(val, keys[k]->def) != 0)
			printf("%s =%s%s\n", names[k],
			    *val != '\0' ? " " : "", val);
		free(val);
	}
	return fflush(stdout) == EOF ? 1 : 0;
}

static int
cmd_config_exec(struct ebbctl *ctl, int argc, char **argv)
{
	struct config	*defaults = NULL;
	const struct config *cfg = ctl->cfg;
	const struct config_key **keys = NULL;
	size_t		 nkeys = 0, i;
	int		 ch, changed_only = 0, rc, bad = 0;

	opterr = 0;
	while ((ch = getopt(argc, argv, "dn")) != -1) {
		switch (ch) {
		case 'd':
			if (defaults == NULL)
				defaults = config_defaults();
			cfg = defaults;
			break;
		case 'n':
			changed_only = 1;
			break;
		default:
			config_free(&defaults);
			return cmd_usage_error(&cmd_config_entry,
			    "unknown option -%c", optopt);
		}
	}
	if (optind < argc) {
		nkeys = (size_t)(argc - optind);
		keys = xcalloc(nkeys, sizeof(*keys));
		for (i = 0; i < nkeys; i++)
			if ((keys[i] = config_lookup(argv[optind + i])) ==
			    NULL)
				bad++;
	}
	if (ctl->json)
		rc = config_json(cfg, changed_only, keys, nkeys);
	else if (keys != NULL)
		rc = config_keys_print(cfg, changed_only, keys,
		    argv + optind, nkeys);
	else {
		config_print(stdout, cfg,
		    changed_only ? CONFIG_PRINT_CHANGED : 0);
		rc = fflush(stdout) == EOF ? 1 : 0;
	}
	free(keys);
	config_free(&defaults);
	return bad > 0 ? EX_USAGE : rc;
}
