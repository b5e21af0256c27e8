/*
 * cmd_submit: the "submit" command. Validates the job (common/job.c),
 * stamps its owner from the peer's credentials, lets dispatch apply its
 * policy and duration estimate and check it against the sites, and stores
 * it; the reply waits for the commit. With "dry_run" it stores nothing and
 * answers with the plan the job would get (dispatch_preview()).
 */
#include <stdio.h>

#include "common/job.h"
#include "common/proto.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/store.h"

json_t *
cmd_submit(struct ebbd *d, const struct peer *p, const json_t *args)
{
	json_t *spec = json_object_get(args, "job");
	json_t *dry = json_object_get(args, "dry_run");
	struct job *j;
	char err[512];
	const char *full;

	if (spec == NULL)
		return proto_reply_err("usage", "submit: missing \"job\"");
	if (dry != NULL && !json_is_boolean(dry))
		return proto_reply_err("usage", "submit: \"dry_run\" must be "
		    "true or false");
	if (!json_is_true(dry) && (full = store_full(d->store)) != NULL)
		return proto_reply_err("unavailable", "no new jobs: the file "
		    "system of ebbd's state is full (%s); queued and running "
		    "jobs go on, and submitting works again once space is "
		    "freed", full);
	if ((j = job_from_submit(spec, ebb_now(), err, sizeof(err))) == NULL)
		return proto_reply_err("usage", "%s", err);
	j->uid = p->uid;
	j->gid = p->gid;
	j->user = xstrdup(p->user);
	/* The job runs with the groups its submitter has now, not the
	 * group database's (which may have changed, or never held them). */
	if (p->ngroups >= 0) {
		j->groups = json_array();
		for (int i = 0; i < p->ngroups; i++)
			json_array_append_new(j->groups,
			    json_integer(p->groups[i]));
	}
	if (dispatch_admit(d->dispatch, j, err, sizeof(err)) == -1) {
		job_free(j);
		return proto_reply_err("usage", "%s", err);
	}
	if (json_is_true(dry)) {
		dispatch_preview(d->dispatch, j);
		spec = job_to_json(j);
		json_object_del(spec, "id");
		json_object_del(spec, "env");
		json_object_del(spec, "groups");
		job_free(j);
		return proto_reply_ok(json_pack("{s:b, s:o}", "dry_run", 1,
		    "job", spec));
	}
	j->reason = xasprintf("submitted by %s", p->user);
	if (store_job_insert(d->store, j) == -1) {
		job_free(j);
		return proto_reply_err("failed", "%s", store_errmsg(d->store));
	}
	dispatch_added(d->dispatch, j);
	spec = json_pack("{s:I, s:s}", "id", (json_int_t)j->id, "state",
	    job_state_name(j->state));
	job_free(j);
	return proto_reply_ok(spec);
}
