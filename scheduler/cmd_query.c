/*
 * cmd_query: read-only commands: "hello", "queue" and "show".
 */
#include <stdint.h>

#include "common/job.h"
#include "common/proto.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/store.h"

#define QUEUE_PAGE	1000
#define PAGE_BYTES	(1u << 20)	/* a page stops growing past this */

/* A job's record with why it waits (dispatch_wait), as queue and show
 * send it. */
static json_t *
job_record(struct dispatch *dp, const struct job *j)
{
	json_t *o = job_to_json(j);

	json_object_set_new(o, "wait_reason", json_string(job_wait_name(
	    dispatch_wait(dp, j))));
	return o;
}

/* Who ebbd takes the peer for: uid, supplementary groups, admin. */
json_t *
cmd_hello(struct ebbd *d, const struct peer *p, const json_t *args)
{
	json_t *groups = p->ngroups < 0 ? json_null() : json_array();

	for (int i = 0; i < p->ngroups; i++)
		json_array_append_new(groups, json_integer(p->groups[i]));
	return proto_reply_ok(json_pack("{s:s, s:i, s:I, s:o, s:b}", "version",
	    EBB_VERSION, "proto", EBB_PROTO_VERSION, "uid", (json_int_t)p->uid,
	    "groups", groups, "admin", p->admin));
}

/*
 * A page of the queue: up to limit jobs after id `after`, and only as many
 * as fit in PAGE_BYTES of JSON (at least one), so a reply stays below the
 * frame limit however long the jobs' argv are.
 */
struct page {
	struct dispatch	*dp;
	json_t		*jobs;
	int64_t		 after;
	size_t		 limit, bytes;
	int		 more;
};

static int
page_cb(void *arg, const struct job *j)
{
	struct page *pg = arg;
	size_t n;
	json_t *o;

	if (j->id <= pg->after)
		return 0;
	if (json_array_size(pg->jobs) == pg->limit) {
		pg->more = 1;
		return 1;
	}
	o = job_record(pg->dp, j);
	json_object_del(o, "env");
	n = json_dumpb(o, NULL, 0, JSON_COMPACT);
	if (json_array_size(pg->jobs) > 0 && pg->bytes + n > PAGE_BYTES) {
		json_decref(o);
		pg->more = 1;
		return 1;
	}
	pg->bytes += n;
	json_array_append_new(pg->jobs, o);
	return 0;
}

json_t *
cmd_queue(struct ebbd *d, const struct peer *p, const json_t *args)
{
	struct store_filter f = {
		.uid = p->admin ? -1 : (int64_t)p->uid,
		.states = 1u << JOB_QUEUED | 1u << JOB_PLANNED |
		    1u << JOB_RUNNING,
	};
	struct page pg = { .dp = d->dispatch, .jobs = json_array(),
	    .limit = QUEUE_PAGE };
	json_t *v;

	if (json_is_true(json_object_get(args, "all")))
		f.states = 0;
	if ((v = json_object_get(args, "after")) != NULL) {
		if (!json_is_integer(v)) {
			json_decref(pg.jobs);
			return proto_reply_err("usage", "after: must be an "
			    "integer");
		}
		pg.after = json_integer_value(v);
	}
	if ((v = json_object_get(args, "limit")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > QUEUE_PAGE) {
			json_decref(pg.jobs);
			return proto_reply_err("usage", "limit: must be an "
			    "integer in [1, %d]", QUEUE_PAGE);
		}
		pg.limit = (size_t)json_integer_value(v);
	}
	if (store_jobs_foreach(d->store, &f, page_cb, &pg) == -1) {
		json_decref(pg.jobs);
		return proto_reply_err("failed", "%s", store_errmsg(d->store));
	}
	return proto_reply_ok(json_pack("{s:o, s:b}", "jobs", pg.jobs,
	    "more", pg.more));
}

json_t *
cmd_show(struct ebbd *d, const struct peer *p, const json_t *args)
{
	json_t *reply = NULL, *events;
	int64_t id = cmd_arg_id(args, &reply);
	struct job *j;

	if (id < 0)
		return reply;
	if ((j = cmd_job_for_peer(d, p, id, &reply)) == NULL)
		return reply;
	if ((events = store_events(d->store, id)) == NULL) {
		job_free(j);
		return proto_reply_err("failed", "%s", store_errmsg(d->store));
	}
	reply = proto_reply_ok(json_pack("{s:o, s:o}", "job",
	    job_record(d->dispatch, j),
	    "events", events));
	job_free(j);
	return reply;
}
