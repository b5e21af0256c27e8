/*
 * client: one connection from ebb to ebbd's control socket.
 *
 * Connects to the Unix socket, sends requests as {"v": 1, "cmd", "args"}
 * frames (common/proto.h) and waits for each reply. It knows the envelope
 * only; what a command's args and result hold is the callers' business
 * (docs/protocol.md). Blocking I/O: the CLI does one thing at a time.
 */
#ifndef EBB_CLIENT_H
#define EBB_CLIENT_H

#include <stddef.h>

#include <jansson.h>

struct client;

/*
 * Connects to the socket at path. Returns a new client (free with
 * client_close) or NULL with "cannot connect to ebbd at PATH: reason" in
 * err.
 */
struct client *client_connect(const char *path, char *err, size_t errlen);

/*
 * Sends cmd with args (stolen; NULL means {}) and reads the reply. Returns
 * the reply's result (new reference, caller decrefs; {} when the reply has
 * none), or NULL with the daemon's error text, or what went wrong on the
 * way, in err; client_code() then says which (see below).
 */
json_t	*client_call(struct client *, const char *cmd, json_t *args,
	    char *err, size_t errlen);

/*
 * The code of the last failed call: the daemon's ("usage", "denied",
 * "notfound", "failed", "version", "busy") or "io" when the request or
 * reply was lost or malformed. Points into the client; valid until the next call.
 */
const char *client_code(const struct client *);

void	client_close(struct client *);

#endif
