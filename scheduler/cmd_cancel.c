/*
 * cmd_cancel: the "cancel" command, for one to EBB_PROTO_MAX_IDS jobs. Each
 * id gets its own result; one job's refusal does not stop the others.
 */
#include "common/job.h"
#include "common/proto.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"

json_t *
cmd_cancel(struct ebbd *d, const struct peer *p, const json_t *args)
{
	const json_t *ids;
	json_t *results, *v, *usage = NULL;
	size_t i;

	if (cmd_arg_ids(args, 1, &ids, &usage) == -1)
		return usage;
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
