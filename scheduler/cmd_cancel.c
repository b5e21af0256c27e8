/*
 * cmd_cancel: the "cancel" command, for one or more jobs. Each id gets its
 * own result; one job's refusal does not stop the others.
 */
#include "common/job.h"
#include "common/proto.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"

json_t *
cmd_cancel(struct ebbd *d, const struct peer *p, const json_t *args)
{
	json_t *ids = json_object_get(args, "ids"), *results, *v;
	size_t i;

	if (!json_is_array(ids) || json_array_size(ids) == 0)
		return proto_reply_err("usage", "ids: a list of job ids is "
		    "required");
	json_array_foreach(ids, i, v)
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return proto_reply_err("usage", "ids[%zu]: not a job "
			    "id", i);
	results = json_array();
	json_array_foreach(ids, i, v) {
		int64_t id = json_integer_value(v);
		json_t *reply = NULL;
		struct job *j = cmd_job_for_peer(d, p, id, &reply);
		char err[256];

		if (j == NULL) {
			json_array_append_new(results, json_pack("{s:I, s:b, "
			    "s:O}", "id", (json_int_t)id, "ok", 0, "error",
			    json_object_get(reply, "error")));
			json_decref(reply);
			continue;
		}
		if (dispatch_cancel(d->dispatch, j, p->user, err,
		    sizeof(err)) == -1)
			json_array_append_new(results, json_pack("{s:I, s:b, "
			    "s:s}", "id", (json_int_t)id, "ok", 0, "error",
			    err));
		else
			json_array_append_new(results, json_pack("{s:I, s:b, "
			    "s:s}", "id", (json_int_t)id, "ok", 1, "state",
			    job_state_name(j->state)));
		job_free(j);
	}
	return proto_reply_ok(json_pack("{s:o}", "results", results));
}
