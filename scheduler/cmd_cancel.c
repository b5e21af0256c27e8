/*
 * cmd_cancel: the "cancel" command: the jobs of "ids" (1 to
 * EBB_PROTO_MAX_IDS), or the active jobs that match filters ("name",
 * "user", "state"; with "ids" too, those of them that match), a page of
 * EBB_PROTO_MAX_IDS at a time after id "after". Each job gets its own
 * result; one job's refusal does not stop the others. A request with
 * neither ids nor a filter is refused: nothing is cancelled by accident.
 */
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/proto.h"
#include "common/xmalloc.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/store.h"

static int
cancel_one(struct ebbd *d, const struct peer *p, struct job *j,
    const void *arg, char *err, size_t errlen)
{
	return dispatch_cancel(d->dispatch, j, p->user, err, errlen);
}

/* Which active jobs a filtered cancel takes, a page at a time. */
struct match {
	int64_t		*ids;		/* sorted; NULL: any id */
	size_t		 nids;
	json_t		*found;		/* ids, at most EBB_PROTO_MAX_IDS */
	int		 more;
};

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
match_cb(void *arg, const struct job *j)
{
	struct match *m = arg;

	/* after, name and user: the query's (store_jobs_foreach). */
	if (m->ids != NULL && bsearch(&j->id, m->ids, m->nids,
	    sizeof(*m->ids), id_cmp) == NULL)
		return 0;
	if (json_array_size(m->found) == EBB_PROTO_MAX_IDS) {
		m->more = 1;
		return 1;
	}
	json_array_append_new(m->found, json_integer(j->id));
	return 0;
}

/* A filter's string argument: absent, or 1 to JOB_NAME_MAX bytes. */
static int
filter_str(const json_t *args, const char *key, const char **out,
    json_t **reply)
{
	const json_t *v = json_object_get(args, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > JOB_NAME_MAX) {
		*reply = proto_reply_err("usage", "%s: must be 1 to %d "
		    "characters", key, JOB_NAME_MAX);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

json_t *
cmd_cancel(struct ebbd *d, const struct peer *p, const json_t *args)
{
	struct store_filter f = {
		.uid = p->admin ? -1 : (int64_t)p->uid,
		.states = 1u << JOB_QUEUED | 1u << JOB_PLANNED |
		    1u << JOB_RUNNING,
	};
	struct match m = { 0 };
	const char *state;
	const json_t *ids, *v;
	json_t *results, *reply = NULL;
	size_t i;
	int st;

	if (filter_str(args, "name", &f.name, &reply) == -1 ||
	    filter_str(args, "user", &f.user, &reply) == -1 ||
	    filter_str(args, "state", &state, &reply) == -1)
		return reply;
	if (f.name == NULL && f.user == NULL && state == NULL) {
		if (json_object_get(args, "ids") == NULL)
			return proto_reply_err("usage", "give the ids of the "
			    "jobs to cancel, or a filter (name, user, "
			    "state): nothing is cancelled without one");
		if (cmd_arg_ids(args, 1, &ids, &reply) == -1)
			return reply;
		return proto_reply_ok(json_pack("{s:o}", "results",
		    cmd_each_job(d, p, ids, cancel_one, NULL)));
	}
	if (cmd_arg_ids(args, 0, &ids, &reply) == -1)
		return reply;
	if (state != NULL) {
		st = job_state_parse(state);
		if (st < 0 || job_state_final((enum job_state)st))
			return proto_reply_err("usage", "state: '%.32s' is not "
			    "queued, planned or running", state);
		f.states = 1u << st;
	}
	if ((v = json_object_get(args, "after")) != NULL) {
		if (!json_is_integer(v))
			return proto_reply_err("usage", "after: must be an "
			    "integer");
		f.after_id = json_integer_value(v);
	}
	if (ids != NULL) {
		m.nids = json_array_size(ids);
		m.ids = xcalloc(m.nids, sizeof(*m.ids));
		json_array_foreach(ids, i, v)
			m.ids[i] = json_integer_value(v);
		qsort(m.ids, m.nids, sizeof(*m.ids), id_cmp);
	}
	/* The database picks them (index on uid, name), not a scan here. */
	m.found = json_array();
	if (store_jobs_foreach(d->store, &f, match_cb, &m) == -1) {
		free(m.ids);
		json_decref(m.found);
		return proto_reply_err("failed", "%s", store_errmsg(d->store));
	}
	results = cmd_each_job(d, p, m.found, cancel_one, NULL);
	free(m.ids);
	json_decref(m.found);
	return proto_reply_ok(json_pack("{s:o, s:b}", "results", results,
	    "more", m.more));
}
