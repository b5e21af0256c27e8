/*
 * local: the backend that runs jobs on this machine, one ebb-run
 * supervisor per job.
 *
 * Starting, finding again after a restart, signalling and reading the
 * output of a job all need root when ebbd serves many users, so this
 * backend only turns the ops into requests to the privileged process
 * (runner/priv.h; the work is done by runner/jobctl.c there) and its job
 * events back into backend events, delivered from the loop. The spec it
 * sends holds the job's command, environment and directory for ebb-run
 * to read after it dropped to the job's user; who the job runs as, its
 * cgroup and limits travel beside it, outside anything a user wrote.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "runner/backend.h"
#include "runner/priv.h"

struct backend {
	struct priv	*priv;
	int64_t		 output_limit;
	struct backend_evq q;
};

static void
on_jobev(void *arg, int64_t id, enum priv_ev what, int64_t pid,
    int64_t start_time, const char *text, int fd)
{
	struct backend *b = arg;
	char err[256];
	json_t *ev = NULL;

	switch (what) {
	case PRIV_EV_STARTED:
		ev = json_pack("{s:s, s:I, s:I}", "type", "started", "pid",
		    (json_int_t)pid, "start_time", (json_int_t)start_time);
		break;
	case PRIV_EV_FINISHED:
		if ((ev = fs_read_json_fd(fd, "result.json", err,
		    sizeof(err))) == NULL || !json_is_object(ev)) {
			json_decref(ev);
			ev = json_pack("{s:s, s:s}", "type", "lost", "reason",
			    err);
		} else
			json_object_set_new(ev, "type", json_string("finished"));
		break;
	case PRIV_EV_LOST:
		ev = json_pack("{s:s, s:s}", "type", "lost", "reason",
		    text ? text : "");
		break;
	case PRIV_EV_UNSTARTED:
		ev = json_pack("{s:s}", "type", "unstarted");
		break;
	case PRIV_EV_FAILED:
		ev = json_pack("{s:s, s:s}", "type", "failed", "reason",
		    text ? text : "");
		break;
	}
	if (fd >= 0)
		close(fd);
	if (ev != NULL)
		backend_evq_push(&b->q, id, ev);
}

static struct backend *
local_open(struct ev_loop *loop, const struct backend_conf *conf,
    backend_event_cb cb, void *cbarg, char *err, size_t errlen)
{
	struct backend *b;

	if (conf->priv == NULL) {
		snprintf(err, errlen, "local backend: no privileged process");
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	b->priv = conf->priv;
	b->output_limit = conf->output_limit;
	backend_evq_init(&b->q, loop, cb, cbarg);
	priv_on_jobev(b->priv, on_jobev, b);
	return b;
}

static void
local_close(struct backend *b)
{
	if (b == NULL)
		return;
	priv_on_jobev(b->priv, NULL, NULL);
	backend_evq_clear(&b->q);
	free(b);
}

static int
local_start(struct backend *b, const json_t *spec, char *err, size_t errlen)
{
	struct priv_cred c;
	char *text;
	int rc;

	if (backend_cred(spec, &c, err, errlen) == -1)
		return -1;
	text = json_dumps(spec, JSON_COMPACT);
	rc = priv_start(b->priv, json_integer_value(json_object_get(spec,
	    "job_id")), &c, json_integer_value(json_object_get(spec, "mem")),
	    json_integer_value(json_object_get(spec, "kill_grace")),
	    b->output_limit, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

static int
local_adopt(struct backend *b, int64_t id, char *err, size_t errlen)
{
	return priv_adopt(b->priv, id, err, errlen);
}

static int
local_cancel(struct backend *b, int64_t id, char *err, size_t errlen)
{
	return priv_signal(b->priv, id, PRIV_CANCEL, err, errlen);
}

static int
local_pause(struct backend *b, int64_t id, int pause, char *err,
    size_t errlen)
{
	return priv_signal(b->priv, id, pause ? PRIV_FREEZE : PRIV_THAW, err,
	    errlen);
}

static int
local_open_log(struct backend *b, const json_t *spec, const char *stream,
    char *err, size_t errlen)
{
	return priv_open_output(b->priv, json_integer_value(json_object_get(
	    spec, "job_id")), stream, err, errlen);
}

const struct backend_ops backend_local_ops = {
	.name = "local",
	.title = "local",
	.open = local_open,
	.close = local_close,
	.start = local_start,
	.adopt = local_adopt,
	.cancel = local_cancel,
	.pause = local_pause,
	.open_log = local_open_log,
};
