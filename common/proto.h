/*
 * proto: the control socket's wire format.
 *
 * A frame is a 4-byte big-endian length followed by that many bytes of one
 * UTF-8 JSON object. Frames larger than EBB_PROTO_MAX_FRAME are refused
 * before any byte of the body is read or allocated.
 *
 * Request:  {"v": 1, "cmd": "submit", "args": {...}}
 * Reply:    {"v": 1, "ok": true, "result": {...}}
 *       or  {"v": 1, "ok": false, "error": "message", "code": "usage"|"denied"|"notfound"|"failed"|"busy"}
 *
 * A request names at most EBB_PROTO_MAX_IDS job ids; clients split longer
 * lists into several requests.
 *
 * The blocking helpers serve the CLI and tests; the daemon decodes frames
 * from its own non-blocking buffers with proto_frame_size().
 */
#ifndef EBB_PROTO_H
#define EBB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define EBB_PROTO_VERSION	1
#define EBB_PROTO_MAX_FRAME	(4u << 20)
#define EBB_PROTO_HDR		4
#define EBB_PROTO_MAX_IDS	1000

/*
 * Given the first `have` bytes of a stream, returns 0 and the size of the
 * whole next frame (header included) in *frame, or 0 with *frame == 0 when
 * more bytes are needed, or -1 when the announced length is zero or larger
 * than max (err says which).
 */
int	proto_frame_size(const unsigned char *buf, size_t have, size_t max,
	    size_t *frame, char *err, size_t errlen);
/* Encodes msg as a frame into a new buffer (caller frees); *len its size. */
unsigned char *proto_encode(const json_t *msg, size_t *len);
/* Parses a frame body; NULL with err set unless it is a JSON object. */
json_t	*proto_decode(const unsigned char *body, size_t len, char *err,
	    size_t errlen);

/* Blocking: write msg as one frame to fd. */
int	proto_send(int fd, const json_t *msg, char *err, size_t errlen);
/* Blocking: read one frame from fd; NULL with err set on EOF or error. */
json_t	*proto_recv(int fd, char *err, size_t errlen);

/* Builders for replies; the caller owns the result. */
json_t	*proto_reply_ok(json_t *result /* stolen, may be NULL */);
json_t	*proto_reply_err(const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
