/*
 * fuzz_proof.c - libFuzzer target for the search for ebb's proof of a hold
 *
 * The input is a queue file as the proof op reads it, except its first
 * byte, which chooses the size of the chunks it is fed in (1 to 256
 * bytes), so that headers cut at every place are tried. The search may
 * not read outside what it was given, crash or loop, and its answer must
 * not depend on the chunks: it must equal that of the whole input fed at
 * once, and that of a plain reference, proof_check_value at every place
 * the header's name starts. A search without the key (ebbd's scanner)
 * fed the same chunks must find nothing itself, and its candidates,
 * checked with the key, must prove the file exactly when the reference
 * does, unless its ring of PROOF_CANDIDATES was full (an earlier
 * candidate may then be gone; a proof among the kept ones must still be
 * the reference's). The key is fixed (32 bytes of 0x5a), the
 * queue id 3F1C2A7B and the arrival time 1765000000; the seed corpus
 * (corpus/proof/) holds a valid header among Postfix records, cut and
 * altered copies of it, and a header for another queue id.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebb/proof.h"
#include "ebb/util.h"

#define ID	"3F1C2A7B"
#define ARRIVAL	1765000000

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* reference - the answer by brute force: every start of the name */
static int
reference(const struct proof_key *key, const uint8_t *p, size_t len)
{
	static const char name[] = PROOF_HEADER ":";
	const size_t	 nlen = sizeof(name) - 1;
	size_t		 s, avail;

	for (s = 0; s + nlen <= len; s++) {
		if (memcmp(p + s, name, nlen) != 0)
			continue;
		avail = MINIMUM(len - s, PROOF_LINE_MAX);
		if (proof_check_value(key, ID, ARRIVAL,
		    (const char *)p + s + nlen, avail - nlen))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proof_search *ps, *kl;
	static struct proof_key key;
	const char	*v;
	size_t		 chunk, off, n, i, vlen;
	int		 chunked, whole, ref, kept;

	if (size == 0)
		return 0;
	if (ps == NULL) {
		memset(key.k, 0x5a, sizeof(key.k));
		ps = proof_search_new(&key);
		kl = proof_search_new(NULL);
	}
	chunk = (size_t)data[0] + 1;
	data++;
	size--;

	proof_search_begin(ps, ID, ARRIVAL);
	for (off = 0; off < size; off += n) {
		n = MINIMUM(chunk, size - off);
		if (proof_search_feed(ps, data + off, n))
			break;
	}
	chunked = proof_search_end(ps);

	proof_search_begin(ps, ID, ARRIVAL);
	proof_search_feed(ps, data, size);
	whole = proof_search_end(ps);

	ref = reference(&key, data, size);
	if (chunked != whole || whole != ref)
		abort();

	proof_search_begin(kl, ID, ARRIVAL);
	for (off = 0; off < size; off += n) {
		n = MINIMUM(chunk, size - off);
		if (proof_search_feed(kl, data + off, n))
			abort();	/* without the key, nothing is found */
	}
	if (proof_search_end(kl))
		abort();
	kept = 0;
	for (i = 0; proof_search_candidate(kl, i, &v, &vlen) == 0; i++) {
		if (vlen > PROOF_LINE_MAX)
			abort();
		kept |= proof_check_value(&key, ID, ARRIVAL, v, vlen);
	}
	if (i > PROOF_CANDIDATES || (kept && !ref) ||
	    (ref && !kept && i < PROOF_CANDIDATES))
		abort();
	return 0;
}
