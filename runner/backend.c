/*
 * backend: the table of job backends ebbd can name in its config, the
 * event queue they share and how a spec names who a job runs as. Each
 * backend lives in its own file.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "runner/backend.h"
#include "runner/privproto.h"

static const struct backend_ops *const backends[] = {
	&backend_local_ops,
	&backend_slurm_ops,
	&backend_kube_ops,
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
	struct backend_ev *e;

	if (ev == NULL) {	/* json_pack refused text (not UTF-8) */
		log_warnx("job %lld: an event could not be built; dropped",
		    (long long)id);
		return;
	}
	e = xcalloc(1, sizeof(*e));
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

int
backend_cred(const json_t *spec, struct priv_cred *c, char *err,
    size_t errlen)
{
	json_t *uid = json_object_get(spec, "uid");
	json_t *gid = json_object_get(spec, "gid");
	json_t *groups = json_object_get(spec, "groups"), *g;
	const char *user = json_string_value(json_object_get(spec, "user"));
	size_t i;
	int n = PRIV_MAXGROUPS;

	if (!json_is_integer(uid) || !json_is_integer(gid) ||
	    json_integer_value(uid) < 0 || json_integer_value(gid) < 0) {
		snprintf(err, errlen, "job spec: no uid or gid");
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->uid = (uid_t)json_integer_value(uid);
	c->gid = (gid_t)json_integer_value(gid);
	if (json_is_array(groups)) {
		json_array_foreach(groups, i, g)
			if (json_is_integer(g) && c->ngroups < PRIV_MAXGROUPS)
				c->groups[c->ngroups++] =
				    (gid_t)json_integer_value(g);
	} else if (user != NULL && *user != '\0' &&
	    getgrouplist(user, c->gid, c->groups, &n) != -1)
		c->ngroups = (size_t)n;
	if (c->ngroups == 0)
		c->groups[c->ngroups++] = c->gid;
	return 0;
}
