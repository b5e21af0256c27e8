/*
 * cmd_jobctl: job control on waiting jobs: "hold" and "release" (ids),
 * "start-now" (ids) and "update" (one id and the limits to change). The
 * peer may touch its own jobs (root and admin_group members anyone's);
 * another user's job is answered as absent. What may be done to a job in
 * its state is dispatch's decision.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/proto.h"
#include "common/strbuf.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"
#include "scheduler/store.h"

static int
hold_one(struct ebbd *d, const struct peer *p, struct job *j, const void *arg,
    char *err, size_t errlen)
{
	return dispatch_hold(d->dispatch, j, *(const int *)arg, p->user, err,
	    errlen);
}

static int
start_one(struct ebbd *d, const struct peer *p, struct job *j,
    const void *arg, char *err, size_t errlen)
{
	return dispatch_start_now(d->dispatch, j, p->user, err, errlen);
}

/* Job control writes history: none of it once the state disk is short. */
static json_t *
refuse_full(struct ebbd *d)
{
	const char *full = store_full(d->store);

	return full == NULL ? NULL : proto_reply_err("unavailable", "no job "
	    "control: the file system of ebbd's state is full (%s); queued and "
	    "running jobs go on, and this works again once space is freed",
	    full);
}

static json_t *
each(struct ebbd *d, const struct peer *p, const json_t *args, cmd_job_fn fn,
    const void *arg)
{
	const json_t *ids;
	json_t *usage = NULL;

	if (cmd_arg_ids(args, 1, &ids, &usage) == -1)
		return usage;
	if ((usage = refuse_full(d)) != NULL)
		return usage;
	return proto_reply_ok(json_pack("{s:o}", "results", cmd_each_job(d, p,
	    ids, fn, arg)));
}

json_t *
cmd_hold(struct ebbd *d, const struct peer *p, const json_t *args)
{
	static const int hold = 1;

	return each(d, p, args, hold_one, &hold);
}

json_t *
cmd_release(struct ebbd *d, const struct peer *p, const json_t *args)
{
	static const int hold = 0;

	return each(d, p, args, hold_one, &hold);
}

json_t *
cmd_start_now(struct ebbd *d, const struct peer *p, const json_t *args)
{
	return each(d, p, args, start_one, NULL);
}

/* An integer argument in [lo, hi] into *out, if present: 1; absent 0. */
static int
arg_int(const json_t *args, const char *key, int64_t lo, int64_t hi,
    int64_t *out, json_t **reply)
{
	const json_t *v = json_object_get(args, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		*reply = proto_reply_err("usage", "%s: must be an integer from "
		    "%" PRId64 " to %" PRId64, key, lo, hi);
		return -1;
	}
	*out = json_integer_value(v);
	return 1;
}

json_t *
cmd_update(struct ebbd *d, const struct peer *p, const json_t *args)
{
	static const int64_t year = INT64_C(100) * 365 * 86400;
	json_t *reply = NULL;
	int64_t id = cmd_arg_id(args, &reply), dl = 0, md = 0, du = 0;
	int hd, hm, hu;
	struct strbuf what = STRBUF_INIT;
	struct job *j;
	char err[512], t[32];
	const char *key;
	json_t *v;

	if (id < 0)
		return reply;
	json_object_foreach((json_t *)args, key, v)
		if (strcmp(key, "id") != 0 && strcmp(key, "deadline") != 0 &&
		    strcmp(key, "max_delay") != 0 &&
		    strcmp(key, "duration") != 0)
			return proto_reply_err("usage", "update: '%.32s' cannot "
			    "be changed (deadline, max_delay, duration can)",
			    key);
	if ((hd = arg_int(args, "deadline", 0, INT64_MAX / 2, &dl,
	    &reply)) == -1 || (hm = arg_int(args, "max_delay", 0, year, &md,
	    &reply)) == -1 || (hu = arg_int(args, "duration", 1, year, &du,
	    &reply)) == -1)
		return reply;
	if (!hd && !hm && !hu)
		return proto_reply_err("usage", "update: nothing to change "
		    "(deadline, max_delay, duration)");
	if (hd && dl != 0 && dl <= ebb_now())
		return proto_reply_err("usage", "deadline: %s is not in the "
		    "future", ebb_fmt_time(dl, t, sizeof(t)));
	if ((reply = refuse_full(d)) != NULL)
		return reply;
	if ((j = cmd_job_for_peer(d, p, id, &reply)) == NULL)
		return reply;
	if ((!hd || dl == j->deadline) && (!hm || md == j->max_delay) &&
	    (!hu || du == j->duration)) {
		/* Nothing changes: no history, no re-plan. */
		reply = proto_reply_ok(json_pack("{s:I, s:s, s:o}", "id",
		    (json_int_t)id, "state", job_state_name(j->state), "job",
		    job_to_json(j)));
		job_free(j);
		return reply;
	}
	/* A deadline replaces a max delay and the other way, as at submit. */
	if (hd && dl != 0 && !hm)
		j->max_delay = 0;
	if (hm && md != 0 && !hd)
		j->deadline = 0;
	if (hd) {
		j->deadline = dl;
		strbuf_addf(&what, "deadline %s", dl ? ebb_fmt_time(dl, t,
		    sizeof(t)) : "none");
	}
	if (hm) {
		j->max_delay = md;
		strbuf_addf(&what, "%smax_delay %s", what.len ? ", " : "",
		    md ? ebb_fmt_duration(md, t, sizeof(t)) : "none");
	}
	if (hu) {
		j->duration = du;
		free(j->duration_source);
		j->duration_source = xstrdup("user");
		strbuf_addf(&what, "%sduration %s", what.len ? ", " : "",
		    ebb_fmt_duration(du, t, sizeof(t)));
	}
	if (job_check_limits(j, ebb_now(), err, sizeof(err)) == -1)
		reply = proto_reply_err("usage", "%s", err);
	else if (dispatch_update(d->dispatch, j, p->user, strbuf_str(&what),
	    err, sizeof(err)) == -1)
		reply = proto_reply_err("failed", "%s", err);
	else
		reply = proto_reply_ok(json_pack("{s:I, s:s, s:o}", "id",
		    (json_int_t)id, "state", job_state_name(j->state), "job",
		    job_to_json(j)));
	strbuf_free(&what);
	job_free(j);
	return reply;
}
