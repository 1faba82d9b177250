// SPDX-License-Identifier: GPL-2.0-only
/* The calls every sink answers: the state allocated and freed here, the rest by its ops. */
#include <errno.h>
#include <stdlib.h>

#include "sinks/sink.h"

int sink_open(const struct sink_ops *ops, const char *path, struct sink **sp)
{
	struct sink *s = calloc(1, ops->size);
	int err;

	*sp = NULL;
	if (!s)
		return -ENOMEM;
	s->ops = ops;
	err = ops->open(s, path);
	if (err) {
		free(s);
		return err;
	}
	*sp = s;
	return 0;
}

int sink_write(struct sink *s, const struct sink_event *e)
{
	return s->ops->write(s, e);
}

int sink_reopen(struct sink *s)
{
	return s->ops->reopen ? s->ops->reopen(s) : 0;
}

int sink_flush(struct sink *s)
{
	return s->ops->flush ? s->ops->flush(s) : 0;
}

unsigned long sink_errors(const struct sink *s)
{
	return s->ops->errors(s);
}

int sink_close(struct sink *s)
{
	int err;

	if (!s)
		return 0;
	err = s->ops->close ? s->ops->close(s) : 0;
	free(s);
	return err;
}
