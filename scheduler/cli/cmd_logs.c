/*
 * cmd_logs: `ebb logs JOB`, a job's captured output written raw to stdout.
 *
 * Asks ebbd for chunks of up to 64 KiB from a running offset and writes
 * the decoded bytes as they come. With --follow it polls every 200 ms
 * while the job may still write, and stops once the job has ended and all
 * its output is out. It does not read log files itself: ebbd checks who
 * may see them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64.h"
#include "scheduler/cli/cli.h"

#define CHUNK		65536
#define POLL_NS		200000000L

int
cmd_logs(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stderr", no_argument, NULL, 'e' },
		{ "follow", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct timespec poll = { 0, POLL_NS };
	int ch, follow = 0, rc, eof, final;
	const char *stream = "stdout";
	unsigned char *data;
	json_int_t offset = 0;
	json_t *result;
	int64_t id;
	size_t len;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":fh", opts)) != -1) {
		if (ch == 'e')
			stream = "stderr";
		else if (ch == 'f')
			follow = 1;
		else if (ch == 'h')
			return cli_help(c);
		else
			return CLI_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage_error(c, "give one job id (ebb logs JOB)");
	if (cli_parse_id(c, argv[optind], &id) == -1)
		return CLI_USAGE;
	for (;;) {
		if ((rc = cli_call(c, "logs", json_pack("{s:I, s:s, s:I, s:i}",
		    "id", (json_int_t)id, "stream", stream, "offset", offset,
		    "max", CHUNK), &result)) != CLI_OK)
			return rc;
		data = b64_decode(json_string_value(json_object_get(result,
		    "data")) ? json_string_value(json_object_get(result,
		    "data")) : "", &len);
		eof = json_is_true(json_object_get(result, "eof"));
		final = json_is_true(json_object_get(result, "final"));
		json_decref(result);
		if (data == NULL)
			return cli_fail(c, "malformed reply from ebbd: bad "
			    "base64 data");
		if (fwrite(data, 1, len, c->out) != len || fflush(c->out) != 0) {
			free(data);
			if (errno == EPIPE)
				return CLI_FAIL;
			return cli_fail(c, "write: %s", strerror(errno));
		}
		free(data);
		offset += (json_int_t)len;
		if (!eof)
			continue;
		if (!follow || final)
			return CLI_OK;
		nanosleep(&poll, NULL);
	}
}
