/*
 * fuzz_received.c - libFuzzer target for the Received: date parser
 *
 * Feeds arbitrary bytes to received_date() and rfc5322_date_parse() as a
 * header value that is not NUL-terminated. Neither may read outside the
 * input, crash or loop, and a date that parses must be one the parser can
 * name: within the years it accepts, and read back to the same instant when
 * written out again in strict RFC 5322 form. The seed corpus
 * (corpus/received/) holds real MTAs' headers and hostile ones.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebb/received.h"

/* 1899-12-31 and 10000-01-02: a zone may move a date a day out of range */
#define EARLIEST	(-2209075200LL)
#define LATEST		(253402387200LL)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check - a parsed instant is in range and survives a round trip */
static void
check(time_t t)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	 tm;
	char		 buf[64];
	time_t		 back;
	int		 n;

	if ((long long)t < EARLIEST || (long long)t > LATEST)
		abort();
	if (gmtime_r(&t, &tm) == NULL)
		abort();
	if (tm.tm_year + 1900 < 1900 || tm.tm_year + 1900 > 9999)
		return;			/* moved out of range by its zone */
	n = snprintf(buf, sizeof(buf), "%d %s %04d %02d:%02d:%02d +0000",
	    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (n <= 0 || (size_t)n >= sizeof(buf) ||
	    rfc5322_date_parse(buf, (size_t)n, &back) != 0 || back != t)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data;
	time_t		 t, again;

	if (rfc5322_date_parse(s, size, &t) == 0) {
		check(t);
		if (rfc5322_date_parse(s, size, &again) != 0 || again != t)
			abort();
	}
	if (received_date(s, size, &t) == 0)
		check(t);
	return 0;
}
