/*
 * mta_ops.c - drive the MTA backend's ops from the command line, for tests
 *
 * mta_ops CONFIG OP [ID...]
 *   scan             print "files F parsed P corrupt C" and, per queue,
 *                    "QUEUE N" for the queues that are not empty
 *   park|release|kick ID...   run the op over the ids
 *   locate ID        print the queue holding ID ("none"), its role and
 *                    whether it is due for a retry now (1 or 0)
 *   depth            print active + incoming
 *   queue_directory  print it
 * Exits 0 when the op succeeded, 1 with the error on stderr otherwise.
 * Used by tests/integration/mta-ops.sh; not installed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebb/config.h"
#include "ebb/index.h"
#include "ebb/log.h"
#include "ebb/msg.h"
#include "ebb/mta.h"

int
main(int argc, char **argv)
{
	const char *const *ids = (const char *const *)argv + 3;
	struct config	*cfg = NULL;
	struct index	*ix = NULL;
	struct mta	*m = NULL;
	struct scan_stats st;
	const char	*op;
	size_t		 n;
	int		 due;
	char		*err = NULL;
	int		 q, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: mta_ops config op [id...]\n");
		return 64;
	}
	log_init("mta_ops", 1, 0);
	op = argv[2];
	n = (size_t)argc - 3;
	if (config_load(argv[1], &cfg, &err) < 0 ||
	    mta_open(cfg, &m, &err) < 0)
		goto fail;
	if (strcmp(op, "scan") == 0) {
		ix = index_new();
		if ((rc = mta_scan(m, ix, &st, &err)) == 0) {
			printf("files %zu parsed %zu corrupt %zu\n", st.files,
			    st.parsed, st.corrupt);
			for (q = 0; q < mta_nqueues(m); q++)
				if (st.queue[q] > 0)
					printf("%s %zu\n", mta_queue_name(m, q),
					    st.queue[q]);
		}
	} else if (strcmp(op, "park") == 0)
		rc = mta_park(m, ids, n, &err);
	else if (strcmp(op, "release") == 0)
		rc = mta_release(m, ids, n, &err);
	else if (strcmp(op, "kick") == 0)
		rc = mta_kick(m, ids, n, &err);
	else if (strcmp(op, "locate") == 0 && n == 1) {
		q = mta_locate(m, ids[0], &due);
		printf("%s %s %d\n", q < 0 ? "none" : mta_queue_name(m, q),
		    q < 0 ? "gone" : msg_role_name(mta_queue_role(m, q)), due);
	} else if (strcmp(op, "depth") == 0)
		printf("%ld\n", mta_depth(m));
	else if (strcmp(op, "queue_directory") == 0)
		printf("%s\n", mta_queue_directory(m));
	else {
		fprintf(stderr, "mta_ops: unknown op %s\n", op);
		rc = 64;
	}
	if (rc == -1)
		goto fail;
	goto out;
fail:
	fprintf(stderr, "mta_ops: %s\n", err != NULL ? err : "failed");
	rc = 1;
out:
	free(err);
	index_free(&ix);
	mta_close(&m);
	config_free(&cfg);
	return rc;
}
