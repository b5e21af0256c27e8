/*
 * cmd: the control command table and request validation common to all
 * commands (version, name, args). What each command does is in cmd_*.c.
 */
#include <string.h>

#include "common/job.h"
#include "common/proto.h"
#include "scheduler/daemon.h"
#include "scheduler/store.h"

static const struct cmd commands[] = {
	{ "hello",	cmd_hello },
	{ "submit",	cmd_submit },
	{ "queue",	cmd_queue },
	{ "show",	cmd_show },
	{ "cancel",	cmd_cancel },
	{ "logs",	cmd_logs },
	{ "sites",	cmd_sites },
	{ "forecast",	cmd_forecast },
	{ "report",	cmd_report },
	{ "hold",	cmd_hold },
	{ "release",	cmd_release },
	{ "update",	cmd_update },
	{ "start-now",	cmd_start_now },
};

json_t *
cmd_run(struct ebbd *d, const struct peer *p, const json_t *req)
{
	json_t *v = json_object_get(req, "v"), *args;
	const char *name;

	if (!json_is_integer(v) || json_integer_value(v) != EBB_PROTO_VERSION)
		return proto_reply_err("version", "unsupported protocol version"
		    " (this ebbd speaks %d)", EBB_PROTO_VERSION);
	if ((name = json_string_value(json_object_get(req, "cmd"))) == NULL)
		return proto_reply_err("usage", "request has no \"cmd\"");
	args = json_object_get(req, "args");
	if (args != NULL && !json_is_object(args))
		return proto_reply_err("usage", "\"args\" must be an object");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0) {
			json_t *empty = NULL, *r;

			if (args == NULL)
				args = empty = json_object();
			r = commands[i].fn(d, p, args);
			json_decref(empty);
			return r;
		}
	}
	return proto_reply_err("usage", "unknown command '%.64s'", name);
}

struct job *
cmd_job_for_peer(struct ebbd *d, const struct peer *p, int64_t id,
    json_t **reply)
{
	struct job *j;
	int rc;

	if ((rc = store_job_get(d->store, id, &j)) == -1) {
		*reply = proto_reply_err("failed", "%s",
		    store_errmsg(d->store));
		return NULL;
	}
	/* Another user's job is answered as absent: not even whose it is
	 * is told. */
	if (rc == 1 && !p->admin && j->uid != p->uid) {
		job_free(j);
		rc = 0;
	}
	if (rc == 0) {
		*reply = proto_reply_err("notfound", "job %lld: no such job",
		    (long long)id);
		return NULL;
	}
	return j;
}

int64_t
cmd_arg_id(const json_t *args, json_t **reply)
{
	json_t *v = json_object_get(args, "id");

	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		*reply = proto_reply_err("usage", "id: a job id is required");
		return -1;
	}
	return json_integer_value(v);
}

int
cmd_arg_ids(const json_t *args, int required, const json_t **ids,
    json_t **reply)
{
	const json_t *v;
	size_t i;

	*ids = json_object_get(args, "ids");
	if (*ids == NULL && !required)
		return 0;
	if (!json_is_array(*ids) || json_array_size(*ids) == 0) {
		*reply = proto_reply_err("usage", "ids: a list of job ids is "
		    "required");
		return -1;
	}
	if (json_array_size(*ids) > EBB_PROTO_MAX_IDS) {
		*reply = proto_reply_err("usage", "ids: %zu ids in one request;"
		    " at most %d are allowed (send them in several requests)",
		    json_array_size(*ids), EBB_PROTO_MAX_IDS);
		return -1;
	}
	json_array_foreach(*ids, i, v)
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			*reply = proto_reply_err("usage", "ids[%zu]: not a job "
			    "id", i);
			return -1;
		}
	return 0;
}

json_t *
cmd_each_job(struct ebbd *d, const struct peer *p, const json_t *ids,
    cmd_job_fn fn, const void *arg)
{
	json_t *results = json_array(), *v;
	size_t i;

	json_array_foreach(ids, i, v) {
		int64_t id = json_integer_value(v);
		json_t *reply = NULL;
		struct job *j = cmd_job_for_peer(d, p, id, &reply);
		char err[512];

		if (j == NULL) {
			json_array_append_new(results, json_pack("{s:I, s:b, "
			    "s:O}", "id", (json_int_t)id, "ok", 0, "error",
			    json_object_get(reply, "error")));
			json_decref(reply);
			continue;
		}
		if (fn(d, p, j, arg, err, sizeof(err)) == -1)
			json_array_append_new(results, json_pack("{s:I, s:b, "
			    "s:s}", "id", (json_int_t)id, "ok", 0, "error",
			    err));
		else
			json_array_append_new(results, json_pack("{s:I, s:b, "
			    "s:s}", "id", (json_int_t)id, "ok", 1, "state",
			    job_state_name(j->state)));
		job_free(j);
	}
	return results;
}
