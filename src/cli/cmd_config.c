/*
 * cmd_config.c - ebbctl config: the configuration, postconf-style
 *
 * ebbctl config [-d] [-n] prints every key of ebb.conf with its effective
 * value (the file named by -c, or the default file, over the defaults) as
 * ebb.conf text that ebbd -n accepts. -d prints the defaults instead, -n only
 * the keys set to something else than their default. With --json the same
 * values come as one JSON object of sections, each an object of "key":
 * "value" strings written as in ebb.conf.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ebb/config.h"
#include "ebb/config_table.h"
#include "cmd.h"

static int	cmd_config_exec(struct ebbctl *, int, char **);

const struct ebbctl_cmd cmd_config_entry = {
	"config", "[-d] [-n]",
	"the configuration, postconf-style (-d defaults, -n changed)",
	cmd_config_exec
};

/* config_json - print cfg as {"section": {"key": "value"}} */
static int
config_json(const struct config *cfg, int changed_only)
{
	json_t	*root, *section;
	char	*val;
	size_t	 i;
	int	 rc;

	root = json_object();
	for (i = 0; i < config_nkeys; i++) {
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

static int
cmd_config_exec(struct ebbctl *ctl, int argc, char **argv)
{
	struct config	*defaults = NULL;
	const struct config *cfg = ctl->cfg;
	int		 ch, changed_only = 0, rc;

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
	if (optind != argc) {
		config_free(&defaults);
		return cmd_usage_error(&cmd_config_entry,
		    "unexpected argument \"%s\"", argv[optind]);
	}
	if (ctl->json)
		rc = config_json(cfg, changed_only);
	else {
		config_print(stdout, cfg,
		    changed_only ? CONFIG_PRINT_CHANGED : 0);
		rc = fflush(stdout) == EOF ? 1 : 0;
	}
	config_free(&defaults);
	return rc;
}
