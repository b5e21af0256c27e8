/*
 * fuzz_proto: the control protocol as ebbd reads it from a client. The
 * input is a byte stream cut into frames as control.c does
 * (proto_frame_size, proto_decode); each request's "args.job" goes through
 * job_from_submit, the one validator of what a client may ask for, and an
 * accepted job, stamped with an owner as cmd_submit does, must survive
 * job_to_json -> job_from_json unchanged. "args" is also read as a stored
 * record (job_from_json). Every decoded request must re-encode to a frame
 * of its own announced size. The command table itself (cmd_run) needs a
 * daemon and its store, so it is not reached here.
 */
#include <stdlib.h>

#include "common/job.h"
#include "common/proto.h"
#include "common/xmalloc.h"
#include "tests/fuzz/fuzz.h"

static void
check_job(const json_t *spec)
{
	struct job *j, *back;
	json_t *a, *b;
	char err[512];

	if ((j = job_from_submit(spec, FUZZ_NOW, err, sizeof(err))) == NULL)
		return;
	j->user = xstrdup("fuzz");
	j->uid = j->gid = 1000;
	j->submit_time = FUZZ_NOW;
	a = job_to_json(j);
	if ((back = job_from_json(a, err, sizeof(err))) == NULL)
		fuzz_fail("job_from_json refuses job_to_json's output: %s",
		    err);
	b = job_to_json(back);
	if (!json_equal(a, b))
		fuzz_fail("job_to_json -> job_from_json changed the job");
	json_decref(a);
	json_decref(b);
	job_free(back);
	job_free(j);
}

static void
check_reencode(const json_t *req)
{
	unsigned char *frame;
	size_t len, size;
	char err[256];

	frame = proto_encode(req, &len);
	if (proto_frame_size(frame, len, (size_t)-1, &size, err,
	    sizeof(err)) == -1 || size != len)
		fuzz_fail("proto_encode's frame does not announce its size");
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, frame;
	char err[256];

	while (proto_frame_size(data + off, size - off, EBB_PROTO_MAX_FRAME,
	    &frame, err, sizeof(err)) == 0 && frame != 0) {
		json_t *req = proto_decode(data + off + EBB_PROTO_HDR,
		    frame - EBB_PROTO_HDR, err, sizeof(err));

		if (req != NULL) {
			json_t *args = json_object_get(req, "args");
			struct job *j;

			check_reencode(req);
			check_job(json_object_get(args, "job"));
			if ((j = job_from_json(args, err, sizeof(err))) != NULL)
				job_free(j);
			json_decref(req);
		}
		off += frame;
	}
	return 0;
}
