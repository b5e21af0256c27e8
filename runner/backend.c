/*
 * backend: the table of job backends ebbd can name in its config, and the
 * event queue they share. Each backend lives in its own file.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "runner/backend.h"

static const struct backend_ops *const backends[] = {
	&backend_local_ops,
	&backend_slurm_ops,
};

struct backend_ev {
	int64_t			 job_id;
	json_t			*ev;
	struct backend_ev	*next;
};

static void
deliver_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct backend_evq *q = t->data;

	while (q->head != NULL) {
		struct backend_ev *e = q->head;

		if ((q->head = e->next) == NULL)
			q->tail = &q->head;
		q->cb(q->cbarg, e->job_id, e->ev);
		json_decref(e->ev);
		free(e);
	}
}

void
backend_evq_init(struct backend_evq *q, struct ev_loop *loop,
    backend_event_cb cb, void *cbarg)
{
	memset(q, 0, sizeof(*q));
	q->loop = loop;
	q->cb = cb;
	q->cbarg = cbarg;
	q->tail = &q->head;
	ev_timer_init(&q->deliver, deliver_cb, 0, 0);
	q->deliver.data = q;
}

void
backend_evq_push(struct backend_evq *q, int64_t id, json_t *ev)
{
	struct backend_ev *e = xcalloc(1, sizeof(*e));

	e->job_id = id;
	e->ev = ev;
	*q->tail = e;
	q->tail = &e->next;
	if (!ev_is_active(&q->deliver)) {
		ev_timer_set(&q->deliver, 0, 0);
		ev_timer_start(q->loop, &q->deliver);
	}
}

void
backend_evq_clear(struct backend_evq *q)
{
	ev_timer_stop(q->loop, &q->deliver);
	while (q->head != NULL) {
		struct backend_ev *e = q->head;

		q->head = e->next;
		json_decref(e->ev);
		free(e);
	}
	q->tail = &q->head;
}

const struct backend_ops *
backend_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
