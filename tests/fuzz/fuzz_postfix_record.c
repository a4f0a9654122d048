/*
 * fuzz_postfix_record.c - libFuzzer target for the queue file reader
 *
 * Feeds arbitrary bytes to pf_parse as a queue file. The reader must never
 * read outside the input, loop, or return an envelope that breaks its own
 * invariants. The seed corpus (corpus/postfix_record/) holds real queue
 * files from a test instance: plain SMTP mail, the null sender, several
 * recipients, a partly delivered message (D records) and a milter's
 * recipient reached through p records.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/postfix_record.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pf_parser *parser;
	struct pf_envelope env;
	const char	*why;
	size_t		 i, total = 0;

	if (parser == NULL)
		parser = pf_parser_new();
	if (pf_parse_buffer(parser, data, size, &env, &why) != PF_OK) {
		if (why == NULL || env.error_offset > size)
			abort();
		return 0;
	}
	/* what was found came from the input and fits in it */
	if (env.sender == NULL || env.data_offset <= 0 ||
	    (uint64_t)env.data_offset >= size ||
	    (uint64_t)env.content_size > size - (uint64_t)env.data_offset)
		abort();
	total = strlen(env.sender);
	for (i = 0; i < env.nrcpt; i++)
		total += strlen(env.rcpt[i]);
	if (total > size)
		abort();
	return 0;
}
