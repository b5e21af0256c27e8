/*
 * cmd_logs: the "logs" command: a chunk of a job's captured stdout or
 * stderr, read from the file its supervisor writes through a descriptor
 * the privileged process opened (never a path ebbd opens itself).
 * Following is the client's loop; the daemon keeps no per-reader state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/job.h"
#include "common/proto.h"
#include "common/xmalloc.h"
#include "scheduler/daemon.h"
#include "scheduler/dispatch.h"

#define LOGS_MAX	(1 << 20)

json_t *
cmd_logs(struct ebbd *d, const struct peer *p, const json_t *args)
{
	json_t *reply = NULL, *v;
	int64_t id = cmd_arg_id(args, &reply), offset = 0, max = 65536;
	const char *stream = "stdout";
	struct job *j;
	char *data, err[512];
	unsigned char *buf;
	ssize_t n = 0;
	const char *file;
	int fd, eof;

	if (id < 0)
		return reply;
	if ((v = json_object_get(args, "stream")) != NULL) {
		stream = json_string_value(v);
		if (stream == NULL || (strcmp(stream, "stdout") != 0 &&
		    strcmp(stream, "stderr") != 0))
			return proto_reply_err("usage", "stream: must be "
			    "stdout or stderr");
	}
	if ((v = json_object_get(args, "offset")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return proto_reply_err("usage", "offset: must be a "
			    "non-negative integer");
		offset = json_integer_value(v);
	}
	if ((v = json_object_get(args, "max")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > LOGS_MAX)
			return proto_reply_err("usage", "max: must be in [1, "
			    "%d]", LOGS_MAX);
		max = json_integer_value(v);
	}
	if ((j = cmd_job_for_peer(d, p, id, &reply)) == NULL)
		return reply;
	/* --output/--error: the job wrote it into the user's own file. */
	if ((file = strcmp(stream, "stderr") == 0 && j->stderr_file != NULL ?
	    j->stderr_file : j->stdout_file) != NULL) {
		reply = proto_reply_err("failed", "job %lld writes its %s to "
		    "%s (in %s; %%j is the job id), not to ebb",
		    (long long)id, stream, file, j->workdir);
		job_free(j);
		return reply;
	}
	buf = xmalloc((size_t)max);
	if ((fd = dispatch_open_log(d->dispatch, j, stream, err,
	    sizeof(err))) >= 0) {
		n = pread(fd, buf, (size_t)max, offset);
		close(fd);
	} else if (errno != ENOENT) {
		reply = proto_reply_err("failed", "job %lld: %s: %s",
		    (long long)id, stream, err);
		goto out;
	}
	if (n < 0) {
		reply = proto_reply_err("failed", "job %lld: %s: %s",
		    (long long)id, stream, strerror(errno));
		goto out;
	}
	eof = n < max;
	data = b64_encode(buf, (size_t)n);
	reply = proto_reply_ok(json_pack("{s:s, s:I, s:b, s:b}", "data", data,
	    "offset", (json_int_t)(offset + n), "eof", eof, "final",
	    job_state_final(j->state)));
	free(data);
out:
	free(buf);
	job_free(j);
	return reply;
}
