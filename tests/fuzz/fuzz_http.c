/*
 * fuzz_http.c - libFuzzer target for what ebbd's HTTP side parses
 *
 * The first byte picks the parser, the rest is its input: [http] allow
 * lists (http_allow_parse) and status objects (metrics_from_status, then
 * metrics_render and metrics_summary). Nothing may crash or read outside
 * the input; a parsed allow list must hold only networks with their
 * prefix in range and no host bits set, and must match the networks'
 * own addresses; the rendered metrics must end in a newline and hold no
 * NUL. The seed corpus (corpus/http/) holds both kinds.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/http_allow.h"
#include "ebb/metrics.h"

#define INPUT_MAX	8192

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_allow(const struct http_allow *a)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	size_t		 i;

	if (a->n > HTTP_ALLOW_MAX)
		abort();
	for (i = 0; i < a->n; i++) {
		memset(&ss, 0, sizeof(ss));
		if (a->net[i].family == AF_INET) {
			if (a->net[i].prefix > 32)
				abort();
			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, a->net[i].addr, 4);
		} else if (a->net[i].family == AF_INET6) {
			if (a->net[i].prefix > 128)
				abort();
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, a->net[i].addr, 16);
			/* a mapped address is matched as IPv4 */
			if (memcmp(a->net[i].addr, mapped, sizeof(mapped)) == 0)
				continue;
		} else
			abort();
		if (!http_allow_match(a, (struct sockaddr *)&ss))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_allow a;
	struct metrics	 m;
	char		*s, *err = NULL, *text;

	if (size < 1 || size > INPUT_MAX)
		return 0;
	if ((s = malloc(size)) == NULL)
		abort();
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (data[0] & 1) {
		if (metrics_from_status(s, size - 1, &m, &err) == 0) {
			text = metrics_render(&m);
			if (text[0] == '\0' || text[strlen(text) - 1] != '\n')
				abort();
			free(text);
			free(metrics_summary(&m, 0));
		} else
			free(err);
	} else {
		if (http_allow_parse(s, &a, &err) == 0)
			check_allow(&a);
		else
			free(err);
	}
	free(s);
	return 0;
}
