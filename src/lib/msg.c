/*
 * msg.c - the names of the queue roles
 *
 * A role is what a queue means to ebb, whatever the MTA calls it (msg.h).
 * The names are those of the status JSON's "roles" object, the history and
 * the log lines of the engine, so they live in one table. The queues'
 * own names belong to the backends (mta.h).
 */
#include "config.h"

#include <string.h>

#include "ebb/msg.h"

static const char *const msg_role_names[MSG_ROLE_COUNT] = {
	[MSG_ROLE_LEAVING] = "leaving",
	[MSG_ROLE_WAITING] = "waiting",
	[MSG_ROLE_HELD] = "held",
	[MSG_ROLE_ADMIN] = "admin",
};

const char *
msg_role_name(int role)
{
	if (role < 0 || role >= MSG_ROLE_COUNT)
		return "unknown";
	return msg_role_names[role];
}

int
msg_role_lookup(const char *name)
{
	int	 r;

	for (r = 0; r < MSG_ROLE_COUNT; r++)
		if (strcmp(msg_role_names[r], name) == 0)
			return r;
	return -1;
}
