/*
 * fuzz_sendmail_qf.c - libFuzzer target for the qf reader
 *
 * Feeds arbitrary bytes to sm_qf_parse as a control file. The reader must
 * never read outside the input or loop, and what it returns must come
 * from the input: strings no longer than the input, a recipient count no
 * larger than its lines, a timeout class in range. The seed corpus
 * (corpus/sendmail_qf/) holds files a private Sendmail 8.17 wrote: a
 * message queued and not tried, one deferred, three recipients, the null
 * sender, a quarantined (hf) file and a DSN.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/sendmail_qf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sm_qf_parser *parser;
	struct sm_qf	 qf;
	const char	*why;
	size_t		 i, lines = 0, total;

	if (parser == NULL)
		parser = sm_qf_parser_new();
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (sm_qf_parse(parser, data, size, &qf, &why) != SM_QF_OK) {
		if (why == NULL || qf.error_line == 0 ||
		    qf.error_line > lines + 1)
			abort();
		return 0;
	}
	if (qf.sender == NULL || qf.nrcpt > lines || qf.nheaders > lines ||
	    qf.version < 1 || qf.version > SM_QF_VERSION_MAX ||
	    (unsigned)sm_qf_class(&qf, NULL, NULL) >= SM_QF_CLASS_COUNT)
		abort();
	total = strlen(qf.sender);
	for (i = 0; i < qf.nrcpt; i++)
		total += strlen(qf.rcpt[i]);
	if (total > size ||
	    (qf.status != NULL && strlen(qf.status) > SM_QF_VALUE_MAX) ||
	    (qf.quarantine != NULL &&
	    strlen(qf.quarantine) > SM_QF_VALUE_MAX))
		abort();
	return 0;
}
