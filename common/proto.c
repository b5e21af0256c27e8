/*
 * proto: length-prefixed JSON frames for the control socket.
 * This file frames and parses; what a command means lives in scheduler/cmd_*.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"
#include "common/xmalloc.h"

int
proto_frame_size(const unsigned char *buf, size_t have, size_t max,
    size_t *frame, char *err, size_t errlen)
{
	uint32_t n;

	*frame = 0;
	if (have < EBB_PROTO_HDR)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	if (n == 0) {
		snprintf(err, errlen, "empty frame");
		return -1;
	}
	if (n > max) {
		snprintf(err, errlen, "frame of %u bytes exceeds the limit of "
		    "%zu bytes", n, max);
		return -1;
	}
	if (have >= EBB_PROTO_HDR + (size_t)n)
		*frame = EBB_PROTO_HDR + (size_t)n;
	return 0;
}

unsigned char *
proto_encode(const json_t *msg, size_t *len)
{
	char *body = json_dumps(msg, JSON_COMPACT);
	size_t n = strlen(body);
	unsigned char *out = xmalloc(EBB_PROTO_HDR + n);

	out[0] = (unsigned char)(n >> 24);
	out[1] = (unsigned char)(n >> 16);
	out[2] = (unsigned char)(n >> 8);
	out[3] = (unsigned char)n;
	memcpy(out + EBB_PROTO_HDR, body, n);
	free(body);
	*len = EBB_PROTO_HDR + n;
	return out;
}

json_t *
proto_decode(const unsigned char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *msg;

	msg = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (msg == NULL) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s",
		    jerr.position, jerr.text);
		return NULL;
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		snprintf(err, errlen, "message is not a JSON object");
		return NULL;
	}
	return msg;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Returns 1 on success, 0 on clean EOF before any byte, -1 on error. */
static int
read_all(int fd, unsigned char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0) {
			errno = EPIPE;
			return got == 0 ? 0 : -1;
		}
		got += (size_t)r;
	}
	return 1;
}

int
proto_send(int fd, const json_t *msg, char *err, size_t errlen)
{
	size_t len;
	unsigned char *buf = proto_encode(msg, &len);
	int rc = write_all(fd, buf, len);

	free(buf);
	if (rc == -1)
		snprintf(err, errlen, "write: %s", strerror(errno));
	return rc;
}

json_t *
proto_recv(int fd, char *err, size_t errlen)
{
	unsigned char hdr[EBB_PROTO_HDR], *body;
	size_t frame;
	json_t *msg;
	int rc;

	if ((rc = read_all(fd, hdr, sizeof(hdr))) != 1) {
		snprintf(err, errlen, "%s", rc == 0 ?
		    "connection closed by ebbd" : strerror(errno));
		return NULL;
	}
	if (proto_frame_size(hdr, sizeof(hdr), EBB_PROTO_MAX_FRAME, &frame,
	    err, errlen) == -1)
		return NULL;
	frame = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	body = xmalloc(frame);
	if (read_all(fd, body, frame) != 1) {
		snprintf(err, errlen, "short frame: %s", strerror(errno));
		free(body);
		return NULL;
	}
	msg = proto_decode(body, frame, err, errlen);
	free(body);
	return msg;
}

json_t *
proto_reply_ok(json_t *result)
{
	json_t *r = json_pack("{s:i, s:b}", "v", EBB_PROTO_VERSION, "ok", 1);

	if (result != NULL)
		json_object_set_new(r, "result", result);
	return r;
}

json_t *
proto_reply_err(const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:i, s:b, s:s, s:s}", "v", EBB_PROTO_VERSION, "ok",
	    0, "error", msg, "code", code);
}
