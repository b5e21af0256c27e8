/*
 * client: connect to ebbd and exchange request/reply frames.
 *
 * Framing and size limits are common/proto.c's; this file adds the socket,
 * the request envelope and the checks of the reply envelope. It does not
 * interpret results or print anything.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"
#include "common/xmalloc.h"
#include "scheduler/cli/client.h"

struct client {
	int	 fd;
	char	 code[16];
};

struct client *
client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct client *cl;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "cannot connect to ebbd at %s: %s", path,
		    strerror(ENAMETOOLONG));
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "cannot connect to ebbd at %s: socket: "
		    "%s", path, strerror(errno));
		return NULL;
	}
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		snprintf(err, errlen, "cannot connect to ebbd at %s: %s", path,
		    strerror(saved));
		return NULL;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->fd = fd;
	return cl;
}


json_t *
client_call(struct client *cl, const char *cmd, json_t *args, char *err,
    size_t errlen)
{
	json_t *req, *rep, *ok, *result;
	const char *code, *text;
	char why[512];

	snprintf(cl->code, sizeof(cl->code), "io");
	req = json_pack("{s:i, s:s, s:o}", "v", EBB_PROTO_VERSION, "cmd", cmd,
	    "args", args ? args : json_object());
	if (proto_send(cl->fd, req, why, sizeof(why)) == -1) {
		json_decref(req);
		/* A daemon that refuses a connection says why, then closes. */
		if ((rep = proto_recv(cl->fd, err, errlen)) == NULL) {
			snprintf(err, errlen, "talking to ebbd: %s", why);
			return NULL;
		}
	} else {
		json_decref(req);
		rep = proto_recv(cl->fd, why, sizeof(why));
	}
	if (rep == NULL) {
		snprintf(err, errlen, "no reply from ebbd: %s", why);
		return NULL;
	}
	ok = json_object_get(rep, "ok");
	if (!json_is_boolean(ok)) {
		json_decref(rep);
		snprintf(err, errlen, "malformed reply from ebbd");
		return NULL;
	}
	if (json_is_false(ok)) {
		code = json_string_value(json_object_get(rep, "code"));
		text = json_string_value(json_object_get(rep, "error"));
		snprintf(cl->code, sizeof(cl->code), "%s",
		    code ? code : "failed");
		snprintf(err, errlen, "%s", text ? text : "request failed");
		json_decref(rep);
		return NULL;
	}
	result = json_object_get(rep, "result");
	result = json_is_object(result) ? json_incref(result) : json_object();
	json_decref(rep);
	return result;
}

const char *
client_code(const struct client *cl)
{
	return cl->code;
}

void
client_close(struct client *cl)
{
	if (cl == NULL)
		return;
	close(cl->fd);
	free(cl);
}
