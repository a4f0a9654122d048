/*
 * msg.c - names of the queues, as the MTAs name them
 *
 * The names are the contract of the command line and the JSON output
 * ("incoming", "active", "deferred", "hold" for Postfix; "queue",
 * "quarantine" for Sendmail), so they live in one table.
 */
#include "config.h"

#include <string.h>

#include "ebb/msg.h"

static const char *const msg_queue_names[MSG_QUEUE_COUNT] = {
	[MSG_QUEUE_INCOMING] = "incoming",
	[MSG_QUEUE_ACTIVE] = "active",
	[MSG_QUEUE_DEFERRED] = "deferred",
	[MSG_QUEUE_HOLD] = "hold",
	[MSG_QUEUE_MAILDROP] = "maildrop",
	[MSG_QUEUE_SENDMAIL] = "queue",
	[MSG_QUEUE_QUARANTINE] = "quarantine",
};

const char *
msg_queue_name(int queue)
{
	if (queue < 0 || queue >= MSG_QUEUE_COUNT)
		return "unknown";
	return msg_queue_names[queue];
}

int
msg_queue_lookup(const char *name)
{
	int	 q;

	for (q = 0; q < MSG_QUEUE_COUNT; q++)
		if (strcmp(msg_queue_names[q], name) == 0)
			return q;
	return -1;
}
