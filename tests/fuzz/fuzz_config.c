/*
 * fuzz_config.c - libFuzzer target for the configuration parser
 *
 * Feeds arbitrary bytes to config_load_stream() as an ebb.conf. It may not
 * read outside the input, crash or leak. A file it refuses must get one
 * line naming the file, "FUZZ:", as every config error does
 * ("file:line: key: why"). A file it takes must print (config_print) as
 * a file that loads again and prints the same: what ebbctl config shows
 * is a config ebbd would run. The seed corpus (corpus/config/) holds the
 * sample config and the malformed kinds the tests use.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/config.h"
#include "ebb/config_table.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* print - cfg as config_print writes it, allocated; *len_r its length */
static char *
print(const struct config *cfg, size_t *len_r)
{
	char	*buf = NULL;
	FILE	*fp;

	if ((fp = open_memstream(&buf, len_r)) == NULL)
		abort();
	config_print(fp, cfg, 0);
	if (fclose(fp) != 0)
		abort();
	return buf;
}

/* load - config_load_stream over len bytes of buf */
static int
load(const void *buf, size_t len, struct config **cfg_r, char **err_r)
{
	FILE	*fp;
	int	 rc;

	if (len == 0)
		fp = fopen("/dev/null", "r");
	else
		fp = fmemopen((void *)buf, len, "r");
	if (fp == NULL)
		abort();
	rc = config_load_stream(fp, "FUZZ", cfg_r, err_r);
	fclose(fp);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cfg = NULL, *again = NULL;
	char		*err = NULL, *text, *text2;
	size_t		 len, len2;

	if (load(data, size, &cfg, &err) == -1) {
		if (err == NULL || strncmp(err, "FUZZ", 4) != 0 ||
		    strchr(err, '\n') != NULL)
			abort();
		free(err);
		return 0;
	}
	text = print(cfg, &len);
	if (load(text, len, &again, &err) == -1)
		abort();		/* printed, yet refused */
	text2 = print(again, &len2);
	if (len != len2 || memcmp(text, text2, len) != 0)
		abort();
	free(text);
	free(text2);
	config_free(&cfg);
	config_free(&again);
	return 0;
}
