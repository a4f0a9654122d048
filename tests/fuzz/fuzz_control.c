/*
 * fuzz_control.c - libFuzzer target for the control protocol's requests
 *
 * Feeds arbitrary bytes to control_request_parse() as one request line,
 * not NUL-terminated. It may not read outside the input, crash or leak,
 * and an error must come with a one-line reason. What parses must pass
 * control_request_check() (the parser allows nothing the checker does
 * not), and must read back the same from control_request_format(): the
 * same command, rate and ids, queue, order and count, so ebbctl and ebbd
 * cannot disagree on what a request asked. The seed corpus
 * (corpus/control/) holds every command, backlog and list with each of
 * their members, and the malformed kinds the hardening review tried.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/control.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* same - two parsed requests ask the same thing */
static int
same(const struct control_request *a, const struct control_request *b)
{
	size_t	 i;

	if (a->command != b->command || a->nids != b->nids)
		return 0;
	if (a->command == CONTROL_RATE && a->rate != b->rate)
		return 0;
	if (strcmp(a->queue, b->queue) != 0 || a->order != b->order ||
	    a->count != b->count)
		return 0;
	for (i = 0; i < a->nids; i++)
		if (strcmp(a->ids[i], b->ids[i]) != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request *r, *back;
	char		*err = NULL, *line;

	r = calloc(1, sizeof(*r));
	back = calloc(1, sizeof(*back));
	if (r == NULL || back == NULL)
		abort();
	if (control_request_parse((const char *)data, size, r, &err) == -1) {
		if (err == NULL || err[0] == '\0' || strchr(err, '\n') != NULL)
			abort();
		free(err);
		goto done;
	}
	if (control_request_check(r, &err) == -1)
		abort();		/* parsed, yet not allowed */
	if ((line = control_request_format(r)) == NULL)
		abort();
	if (strchr(line, '\n') != NULL ||
	    control_request_parse(line, strlen(line), back, &err) == -1 ||
	    !same(r, back))
		abort();
	free(line);
done:
	free(r);
	free(back);
	return 0;
}
