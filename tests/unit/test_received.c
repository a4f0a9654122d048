/*
 * test_received.c - RFC 5322 dates and the dates of Received: headers
 *
 * Two tables: date-times, good and broken, for rfc5322_date_parse, and whole
 * Received: header values as real MTAs write them for received_date. Each
 * row is one test case. The expected instant is written as UTC text and
 * converted with glibc's timegm(), an oracle independent of the code under
 * test. Every input is copied into a buffer of exactly its length, with no
 * NUL after it, so a sanitizer build catches any read past the end.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ebb/received.h"
#include "ebb/util.h"

#define BAD	NULL		/* the parse must fail */

struct date_case {
	const char	*name;
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	const char	*want;	/* "YYYY-MM-DD HH:MM:SS" UTC, or BAD */
};

static const struct date_case dates[] = {
	/* good: RFC 5322 and the variants real mail carries */
	{ "strict", "Tue, 12 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "zone east", "Tue, 12 Mar 2024 10:00:00 +0130", 0,
	  "2024-03-12 08:30:00" },
	{ "zone west crosses midnight", "Tue, 12 Mar 2024 22:00:00 -0500", 0,
	  "2024-03-13 03:00:00" },
	{ "no weekday", "12 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "weekday without comma", "Tue 12 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "full weekday", "Tuesday, 12 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "wrong weekday is ignored", "Sun, 12 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "one-digit day", "Fri, 1 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-01 10:00:00" },
	{ "zero-padded day", "Fri, 01 Mar 2024 10:00:00 +0000", 0,
	  "2024-03-01 10:00:00" },
	{ "lower case", "tue, 12 mar 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "upper case", "TUE, 12 MAR 2024 10:00:00 GMT", 0,
	  "2024-03-12 10:00:00" },
	{ "full month", "12 March 2024 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "month Sept", "12 Sept 2024 10:00:00 +0000", 0,
	  "2024-09-12 10:00:00" },
	{ "two-digit year 24", "12 Mar 24 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "two-digit year 99", "31 Dec 99 23:59:59 +0000", 0,
	  "1999-12-31 23:59:59" },
	{ "two-digit year 49", "1 Jan 49 00:00:00 +0000", 0,
	  "2049-01-01 00:00:00" },
	{ "two-digit year 50", "1 Jan 50 00:00:00 +0000", 0,
	  "1950-01-01 00:00:00" },
	{ "three-digit year", "12 Mar 124 10:00:00 +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "no seconds", "12 Mar 2024 10:07 +0000", 0,
	  "2024-03-12 10:07:00" },
	{ "one-digit hour", "12 Mar 2024 9:05:03 +0000", 0,
	  "2024-03-12 09:05:03" },
	{ "zone GMT", "Tue, 12 Mar 2024 10:00:00 GMT", 0,
	  "2024-03-12 10:00:00" },
	{ "zone UT", "Tue, 12 Mar 2024 10:00:00 UT", 0,
	  "2024-03-12 10:00:00" },
	{ "zone UTC", "Tue, 12 Mar 2024 10:00:00 UTC", 0,
	  "2024-03-12 10:00:00" },
	{ "zone EST", "Tue, 12 Mar 2024 10:00:00 EST", 0,
	  "2024-03-12 15:00:00" },
	{ "zone EDT", "Tue, 12 Mar 2024 10:00:00 EDT", 0,
	  "2024-03-12 14:00:00" },
	{ "zone CST", "Tue, 12 Mar 2024 10:00:00 CST", 0,
	  "2024-03-12 16:00:00" },
	{ "zone CDT", "Tue, 12 Mar 2024 10:00:00 cdt", 0,
	  "2024-03-12 15:00:00" },
	{ "zone MST", "Tue, 12 Mar 2024 10:00:00 MST", 0,
	  "2024-03-12 17:00:00" },
	{ "zone MDT", "Tue, 12 Mar 2024 10:00:00 MDT", 0,
	  "2024-03-12 16:00:00" },
	{ "zone PST", "Tue, 12 Mar 2024 10:00:00 PST", 0,
	  "2024-03-12 18:00:00" },
	{ "zone PDT", "Tue, 12 Mar 2024 10:00:00 PDT", 0,
	  "2024-03-12 17:00:00" },
	{ "military Z", "Tue, 12 Mar 2024 10:00:00 Z", 0,
	  "2024-03-12 10:00:00" },
	{ "military A means -0000", "Tue, 12 Mar 2024 10:00:00 A", 0,
	  "2024-03-12 10:00:00" },
	{ "unknown zone CET means -0000", "Tue, 12 Mar 2024 10:00:00 CET", 0,
	  "2024-03-12 10:00:00" },
	{ "missing zone", "Tue, 12 Mar 2024 10:00:00", 0,
	  "2024-03-12 10:00:00" },
	{ "zone -0000", "Tue, 12 Mar 2024 10:00:00 -0000", 0,
	  "2024-03-12 10:00:00" },
	{ "zone +hh:mm", "Tue, 12 Mar 2024 10:00:00 +01:00", 0,
	  "2024-03-12 09:00:00" },
	{ "zone comment", "Tue, 12 Mar 2024 10:00:00 +0000 (UTC)", 0,
	  "2024-03-12 10:00:00" },
	{ "two trailing comments", "Tue, 12 Mar 2024 02:00:00 -0800 (PST) "
	  "(x)", 0, "2024-03-12 10:00:00" },
	{ "nested comment", "Tue, 12 Mar 2024 10:00:00 +0000 (a (b (c)) d)",
	  0, "2024-03-12 10:00:00" },
	{ "quoted paren in comment", "Tue, 12 Mar 2024 10:00:00 +0000 "
	  "(a \\) b)", 0, "2024-03-12 10:00:00" },
	{ "comments between fields", "(x)Tue,(y) 12 (z)Mar(w) 2024 "
	  "10(h):(m)00:00 +0000", 0, "2024-03-12 10:00:00" },
	{ "folded", "Tue, 12 Mar 2024\r\n\t10:00:00\r\n +0000", 0,
	  "2024-03-12 10:00:00" },
	{ "bare LF fold and trailing CRLF", "\n Tue, 12 Mar 2024\n 10:00:00 "
	  "+0000\r\n", 0, "2024-03-12 10:00:00" },
	{ "spaces around colons", "12 Mar 2024 10 : 07 : 09 +0000", 0,
	  "2024-03-12 10:07:09" },
	{ "leap second", "31 Dec 2016 23:59:60 +0000", 0,
	  "2017-01-01 00:00:00" },
	{ "Feb 29 in a leap year", "29 Feb 2024 12:00:00 +0000", 0,
	  "2024-02-29 12:00:00" },
	{ "Feb 29 2000", "29 Feb 2000 12:00:00 +0000", 0,
	  "2000-02-29 12:00:00" },
	{ "asctime", "Tue Mar 12 10:00:00 2024", 0, "2024-03-12 10:00:00" },
	{ "asctime padded day", "Sat Mar  2 10:00:00 2024", 0,
	  "2024-03-02 10:00:00" },
	{ "date(1) with zone", "Tue Mar 12 10:00:00 UTC 2024", 0,
	  "2024-03-12 10:00:00" },
	{ "asctime zone after year", "Tue Mar 12 10:00:00 2024 +0100", 0,
	  "2024-03-12 09:00:00" },
	{ "asctime without weekday", "Mar 12 10:00:00 2024", 0,
	  "2024-03-12 10:00:00" },
	{ "year 1900", "1 Jan 1900 00:00:00 +0000", 0,
	  "1900-01-01 00:00:00" },
	{ "year 9999", "31 Dec 9999 23:59:59 +0000", 0,
	  "9999-12-31 23:59:59" },
	{ "epoch", "Thu, 1 Jan 1970 00:00:00 +0000", 0,
	  "1970-01-01 00:00:00" },
	{ "2038", "Tue, 19 Jan 2038 03:14:08 +0000", 0,
	  "2038-01-19 03:14:08" },
	{ "len cuts trailing junk", "12 Mar 2024 10:00:00 +0000junk", 26,
	  "2024-03-12 10:00:00" },

	/* bad: out of range */
	{ "day 32", "32 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "day 0", "0 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "Apr 31", "31 Apr 2024 10:00:00 +0000", 0, BAD },
	{ "Feb 30", "30 Feb 2024 10:00:00 +0000", 0, BAD },
	{ "Feb 29 2023", "29 Feb 2023 10:00:00 +0000", 0, BAD },
	{ "Feb 29 1900", "29 Feb 1900 10:00:00 +0000", 0, BAD },
	{ "hour 24", "12 Mar 2024 24:00:00 +0000", 0, BAD },
	{ "hour 25", "12 Mar 2024 25:00:00 +0000", 0, BAD },
	{ "minute 60", "12 Mar 2024 10:60:00 +0000", 0, BAD },
	{ "second 61", "12 Mar 2024 10:00:61 +0000", 0, BAD },
	{ "month 13", "12 13 2024 10:00:00 +0000", 0, BAD },
	{ "unknown month", "12 Foo 2024 10:00:00 +0000", 0, BAD },
	{ "month Ma", "12 Ma 2024 10:00:00 +0000", 0, BAD },
	{ "zone +9999", "12 Mar 2024 10:00:00 +9999", 0, BAD },
	{ "zone +2400", "12 Mar 2024 10:00:00 +2400", 0, BAD },
	{ "zone +0060", "12 Mar 2024 10:00:00 +0060", 0, BAD },
	{ "year 1899", "12 Mar 1899 10:00:00 +0000", 0, BAD },
	{ "year 0000", "12 Mar 0000 10:00:00 +0000", 0, BAD },

	/* bad: malformed */
	{ "empty", "", 0, BAD },
	{ "whitespace only", " \r\n\t ", 0, BAD },
	{ "comment only", "(Tue, 12 Mar 2024 10:00:00 +0000)", 0, BAD },
	{ "date without time", "Tue, 12 Mar 2024", 0, BAD },
	{ "time without minutes", "12 Mar 2024 10 +0000", 0, BAD },
	{ "one-digit minute", "12 Mar 2024 10:0:00 +0000", 0, BAD },
	{ "three-digit second", "12 Mar 2024 10:00:000 +0000", 0, BAD },
	{ "three-digit day", "012 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "one-digit year", "12 Mar 4 10:00:00 +0000", 0, BAD },
	{ "five-digit year", "12 Mar 20245 10:00:00 +0000", 0, BAD },
	{ "year glued to time", "12 Mar 202410:00:00 +0000", 0, BAD },
	{ "two-digit zone", "12 Mar 2024 10:00:00 +01", 0, BAD },
	{ "five-digit zone", "12 Mar 2024 10:00:00 +00000", 0, BAD },
	{ "sign without digits", "12 Mar 2024 10:00:00 -", 0, BAD },
	{ "zone word too long", "12 Mar 2024 10:00:00 ABCDEF", 0, BAD },
	{ "garbage after zone", "12 Mar 2024 10:00:00 +0000 foo", 0, BAD },
	{ "zone then word zone", "12 Mar 2024 10:00:00 +0000 GMT", 0, BAD },
	{ "digits after zone", "12 Mar 2024 10:00:00 +0000 1", 0, BAD },
	{ "stray close paren", "12 Mar 2024 10:00:00 +0000 )", 0, BAD },
	{ "unterminated comment", "12 Mar 2024 10:00:00 +0000 (UTC", 0, BAD },
	{ "comment too deep", "12 Mar 2024 10:00:00 +0000 "
	  "(((((((((((((((((x)))))))))))))))))", 0, BAD },
	{ "unknown weekday", "Foo, 12 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "weekday too short", "Tu, 12 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "word too long", "Wednesdayy, 12 Mar 2024 10:00:00 +0000", 0,
	  BAD },
	{ "two commas", "Tue,, 12 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "negative day", "-12 Mar 2024 10:00:00 +0000", 0, BAD },
	{ "ISO 8601", "2024-03-12T10:00:00Z", 0, BAD },
	{ "epoch seconds", "1710237600", 0, BAD },
	{ "truncated in the year", "Tue, 12 Mar 20", 0, BAD },
	{ "truncated in the zone", "Tue, 12 Mar 2024 10:00:00 +00", 0, BAD },
	{ "len cuts the zone", "12 Mar 2024 10:00:00 +0000", 23, BAD },
	{ "NUL before the zone", "12 Mar 2024 10:00:00\0+0000", 26, BAD },
	{ "NUL first", "\0" "12 Mar 2024 10:00:00 +0000", 27, BAD },
	{ "NUL after the zone", "12 Mar 2024 10:00:00 +0000\0", 27, BAD },
	{ "high bytes", "12 M\xe4r 2024 10:00:00 +0000", 0, BAD },
	{ "only high bytes", "\xff\xfe\x80", 0, BAD },
};

struct received_case {
	const char	*name;
	const char	*in;
	const char	*want;
};

static const struct received_case receiveds[] = {
	{ "Postfix",
	  "from mail.example.org (mail.example.org [192.0.2.1])\r\n"
	  "\tby mx.example.net (Postfix) with ESMTPS id 4Tv2Yk1XyZz9sPd\r\n"
	  "\tfor <u@example.net>; Tue, 12 Mar 2024 10:00:00 +0100 (CET)",
	  "2024-03-12 09:00:00" },
	{ "Exim",
	  "from [198.51.100.7] (helo=client.example.org)\n"
	  "\tby mx.example.com with esmtpsa  (TLS1.3) tls "
	  "TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n\t(envelope-from "
	  "<a@example.org>)\n\tid 1rk0Zb-000Abc-2x\n\tfor b@example.com;\n"
	  "\tTue, 12 Mar 2024 10:00:00 +0000", "2024-03-12 10:00:00" },
	{ "qmail", "(qmail 12345 invoked from network); 12 Mar 2024 "
	  "10:00:00 -0000", "2024-03-12 10:00:00" },
	{ "Sendmail", "from x.example.org (x.example.org [192.0.2.9])\n"
	  "\tby y.example.net (8.17.1.9/8.17.1.9/Debian-2) with ESMTP id "
	  "42CA00001234\n\tfor <u@example.net>; Tue, 12 Mar 2024 10:00:00 "
	  "+0100", "2024-03-12 09:00:00" },
	{ "Exchange Online", "from AM0PR02MB1234.eurprd02.prod.outlook.com "
	  "(2603:10a6:208:1::1) by AM0PR02MB5678.eurprd02.prod.outlook.com "
	  "(2603:10a6:208:2::2) with Microsoft SMTP Server (version=TLS1_2, "
	  "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7386.14; "
	  "Tue, 12 Mar 2024 10:00:00 +0000", "2024-03-12 10:00:00" },
	{ "Gmail", "by 2002:a05:6a10:1234:b0:5a1:2b3c:4d5e with SMTP id "
	  "x12csp123456pxb;\r\n        Tue, 12 Mar 2024 02:00:00 -0800 (PST)",
	  "2024-03-12 10:00:00" },
	{ "semicolon in a comment before", "from a (HELO x;y) by b with SMTP; "
	  "Tue, 12 Mar 2024 10:00:00 +0000", "2024-03-12 10:00:00" },
	{ "semicolon in a comment after", "from a by b with SMTP; Tue, 12 Mar "
	  "2024 10:00:00 +0000 (envelope-from x; y)", "2024-03-12 10:00:00" },
	{ "unbalanced paren before", "from a (b by c; Tue, 12 Mar 2024 "
	  "10:00:00 +0000", "2024-03-12 10:00:00" },
	{ "stray close paren before", "from a b) by c; Tue, 12 Mar 2024 "
	  "10:00:00 +0000", "2024-03-12 10:00:00" },
	{ "asctime after the semicolon", "from a by b; Tue Mar 12 10:00:00 "
	  "2024", "2024-03-12 10:00:00" },
	{ "no semicolon", "from a by b with SMTP Tue, 12 Mar 2024 10:00:00 "
	  "+0000", BAD },
	{ "semicolon at the end", "from a by b with SMTP;", BAD },
	{ "no date after it", "from a by b; id 1234", BAD },
	{ "date is garbage", "from a by b; Tue, 32 Mar 2024 10:00:00 +0000",
	  BAD },
	{ "empty value", "", BAD },
	{ "only a semicolon", ";", BAD },
	{ "two dates, last wins", "from a; Mon, 11 Mar 2024 10:00:00 +0000 "
	  "by b; Tue, 12 Mar 2024 10:00:00 +0000", "2024-03-12 10:00:00" },
};

/* oracle - what want means, through glibc */
static time_t
oracle(const char *want)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(want, "%d-%d-%d %d:%d:%d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* exact - a copy of in[0..len) with nothing after it */
static char *
exact(const char *in, size_t len)
{
	char	*p = malloc(len > 0 ? len : 1);

	assert_non_null(p);
	memcpy(p, in, len);
	return p;
}

static void
run_date(void **state)
{
	const struct date_case *c = *state;
	size_t		 len = c->len > 0 ? c->len : strlen(c->in);
	char		*buf = exact(c->in, len);
	time_t		 t = 12345;
	int		 rc;

	rc = rfc5322_date_parse(buf, len, &t);
	free(buf);
	if (c->want == BAD) {
		assert_int_equal(rc, -1);
		assert_int_equal(t, 12345);	/* untouched */
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(t, oracle(c->want));
}

static void
run_received(void **state)
{
	const struct received_case *c = *state;
	size_t		 len = strlen(c->in);
	char		*buf = exact(c->in, len);
	time_t		 t = 12345;
	int		 rc;

	rc = received_date(buf, len, &t);
	free(buf);
	if (c->want == BAD) {
		assert_int_equal(rc, -1);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(t, oracle(c->want));
}

/* random dates in every accepted style against timegm() */
static void
test_random_dates(void **state)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	struct tm	 tm;
	char		 buf[128];
	time_t		 want, got;
	int		 i, n, off, style;

	(void)state;
	srandom(5322);
	for (i = 0; i < 20000; i++) {
		/* any second from 1900-01-02 to 9999-12-30 */
		want = (time_t)(((long long)random() << 31 | random()) %
		    (253402300800LL + 2208988800LL - 2 * 86400)) -
		    2208988800LL + 86400;
		off = (int)(random() % (2 * 14 * 60 + 1)) - 14 * 60;
		got = want + off * 60;		/* local time at offset */
		assert_non_null(gmtime_r(&got, &tm));
		style = (int)(random() % 3);
		if (style == 0)
			n = snprintf(buf, sizeof(buf), "%s, %d %s %04d "
			    "%02d:%02d:%02d %c%02d%02d", wday[tm.tm_wday],
			    tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
			    tm.tm_hour, tm.tm_min, tm.tm_sec,
			    off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
		else if (style == 1)
			n = snprintf(buf, sizeof(buf), "%02d %s %04d "
			    "%02d:%02d:%02d %c%02d:%02d (c)", tm.tm_mday,
			    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
			    tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
			    abs(off) / 60, abs(off) % 60);
		else
			n = snprintf(buf, sizeof(buf), "%s %s %2d "
			    "%02d:%02d:%02d %04d %c%02d%02d",
			    wday[tm.tm_wday], mon[tm.tm_mon], tm.tm_mday,
			    tm.tm_hour, tm.tm_min, tm.tm_sec,
			    tm.tm_year + 1900, off < 0 ? '-' : '+',
			    abs(off) / 60, abs(off) % 60);
		assert_true(n > 0 && (size_t)n < sizeof(buf));
		if (rfc5322_date_parse(buf, (size_t)n, &got) != 0)
			fail_msg("did not parse: %s", buf);
		if (got != want)
			fail_msg("%s: got %lld, want %lld", buf,
			    (long long)got, (long long)want);
	}
}

/* every prefix of a good date fails or parses, and never reads past it */
static void
test_every_prefix(void **state)
{
	static const char good[] = "Tue, 12 Mar 2024 10:00:00 +0000 (UTC)";
	size_t		 len;
	time_t		 t;
	char		*buf;
	int		 ok = 0;

	(void)state;
	for (len = 0; len <= sizeof(good) - 1; len++) {
		buf = exact(good, len);
		if (rfc5322_date_parse(buf, len, &t) == 0)
			ok++;
		free(buf);
	}
	/* ends at "10:00", "10:00:00", "10:00:00 ", "+0000", "+0000 ", ")" */
	assert_int_equal(ok, 6);
}

static void
test_null(void **state)
{
	time_t	 t;

	(void)state;
	assert_int_equal(rfc5322_date_parse(NULL, 0, &t), -1);
	assert_int_equal(received_date(NULL, 0, &t), -1);
}

int
main(void)
{
	static const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_random_dates),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_null),
	};
	struct CMUnitTest tests[nitems(dates) + nitems(receiveds) +
	    nitems(plain)];
	size_t		 i, n = 0;

	for (i = 0; i < nitems(dates); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = dates[i].name;
		tests[n].test_func = run_date;
		tests[n].initial_state = (void *)&dates[i];
	}
	for (i = 0; i < nitems(receiveds); i++, n++) {
		memset(&tests[n], 0, sizeof(tests[n]));
		tests[n].name = receiveds[i].name;
		tests[n].test_func = run_received;
		tests[n].initial_state = (void *)&receiveds[i];
	}
	for (i = 0; i < nitems(plain); i++, n++)
		tests[n] = plain[i];
	return _cmocka_run_group_tests("received", tests, n, NULL, NULL);
}
