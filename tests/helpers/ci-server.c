/*
 * ci-server: a loopback HTTP/1.1 server that replays recorded provider
 * responses and injects faults, for the carbon tests.
 *
 *   ci-server [-l LOGFILE] [-r ROUTES] DIR
 *
 * Listens on 127.0.0.1 at a free port and prints the port as the first
 * line of stdout. GET /P serves DIR/P. A routes file (-r, default
 * DIR/routes if it exists) maps prefixes to files, one "PREFIX FILE" per
 * line, '#' comments, first match wins; FILE is relative to DIR. The query
 * string is ignored unless PREFIX holds a '?', then it is matched against
 * "path?query" (arguments in request order, unescaped).
 *
 * Faults, as MODE or MODE:SECS: a status code 100-599 (429 and 503 carry
 * "Retry-After: SECS", default 1, or the header value given as
 * retry_after=VALUE, such as an HTTP date or garbage), hang (answer normally after SECS,
 * default 30, or never if the server stops first), truncate (Content-Length
 * larger than what is sent, then close), badjson (a 200 with garbage),
 * empty (a 200 with an empty body, or with DIR/FILE given as body=FILE) and
 * huge (a chunked 8 MiB 200). Chosen
 *   - for the next N requests:
 *     GET /_fault?mode=MODE[&count=N][&body=FILE][&retry_after=VALUE]
 *     (no count: until /_fault?mode=none or /_reset), or
 *   - for one request: GET /_f/MODE/P, which otherwise serves /P;
 *     a fault set with /_fault wins while it lasts.
 * Every other request is logged as one JSON line (method, path, query,
 * whether auth-token and Authorization headers came, the fault applied);
 * GET /_log returns the lines, -l also appends them to LOGFILE, GET /_reset
 * clears the log and the fault. SIGTERM or SIGINT stops it. It does not
 * speak TLS, serve anything but GET or guard against hostile clients.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "common/xmalloc.h"

#define HUGE_BYTES	(8u << 20)
#define MAX_ROUTES	256

enum mode { M_NONE, M_STATUS, M_HANG, M_TRUNCATE, M_BADJSON, M_EMPTY,
	M_HUGE };

struct fault {
	enum mode	 mode;
	int		 status;
	double		 secs;
	char		 name[32];	/* as given, for the log */
	char		*body;		/* empty: file under DIR, or NULL */
	char		*retry_after;	/* Retry-After value, or NULL */
};

struct route {
	char		*prefix;
	char		*file;
};

static const char	*dir;
static struct route	 routes[MAX_ROUTES];
static size_t		 nroutes;
static FILE		*logfile;

/* Shared by the connection threads. */
static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 stop_cv = PTHREAD_COND_INITIALIZER;
static int		 stopping;
static struct fault	 fault;
static long		 fault_count;	/* -1: until reset */
static char		*logbuf;
static size_t		 loglen;

/* "500", "429:2", "hang:0.5", "truncate", ... -> f; -1 if unknown. */
static int
parse_mode(const char *s, struct fault *f)
{
	static const struct {
		const char	*name;
		enum mode	 mode;
	} names[] = {
		{ "none", M_NONE }, { "hang", M_HANG },
		{ "truncate", M_TRUNCATE }, { "badjson", M_BADJSON },
		{ "empty", M_EMPTY }, { "huge", M_HUGE },
	};
	const char *colon = strchr(s, ':');
	size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s), i;
	char *end;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", s);
	f->secs = colon != NULL ? strtod(colon + 1, &end) : -1;
	if (colon != NULL && (end == colon + 1 || *end != '\0' || f->secs < 0))
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n &&
		    strncmp(names[i].name, s, n) == 0) {
			f->mode = names[i].mode;
			if (f->mode == M_HANG && f->secs < 0)
				f->secs = 30;
			return 0;
		}
	f->status = (int)strtol(s, &end, 10);
	if (end != s + n || f->status < 100 || f->status > 599)
		return -1;
	f->mode = M_STATUS;
	if (f->secs < 0)
		f->secs = 1;
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp;
	char *b = NULL;
	size_t cap = 0, n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	*len = 0;
	do {
		if (*len + 4096 > cap)
			b = xrealloc(b, cap = 2 * cap + 4096);
		n = fread(b + *len, 1, cap - *len, fp);
		*len += n;
	} while (n > 0);
	if (ferror(fp)) {
		free(b);
		b = NULL;
	}
	fclose(fp);
	return b;
}

static void
load_routes(const char *path, int must)
{
	FILE *fp;
	char line[1024], prefix[512], file[512];

	if ((fp = fopen(path, "r")) == NULL) {
		if (!must)
			return;
		fprintf(stderr, "ci-server: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || sscanf(line, "%511s %511s", prefix,
		    file) != 2)
			continue;
		if (nroutes == MAX_ROUTES) {
			fprintf(stderr, "ci-server: %s: too many routes\n",
			    path);
			exit(2);
		}
		routes[nroutes].prefix = xstrdup(prefix);
		routes[nroutes].file = xstrdup(file);
		nroutes++;
	}
	fclose(fp);
}

static enum MHD_Result
add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	char **q = cls;
	char *n;

	n = xasprintf("%s%s%s%s%s", *q, **q != '\0' ? "&" : "", key,
	    value != NULL ? "=" : "", value != NULL ? value : "");
	free(*q);
	*q = n;
	return MHD_YES;
}

static void
log_request(struct MHD_Connection *c, const char *method, const char *path,
    const char *query, const struct fault *f)
{
	json_t *o;
	char *line;

	o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s?}", "method", method,
	    "path", path, "query", query, "auth_token",
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "auth-token") !=
	    NULL, "authorization", MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) != NULL,
	    "fault", f->mode != M_NONE ? f->name : NULL);
	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	pthread_mutex_lock(&mtx);
	logbuf = xrealloc(logbuf, loglen + strlen(line) + 2);
	loglen += (size_t)sprintf(logbuf + loglen, "%s\n", line);
	if (logfile != NULL) {
		fprintf(logfile, "%s\n", line);
		fflush(logfile);
	}
	pthread_mutex_unlock(&mtx);
	free(line);
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const void *body, size_t len, const char *retry_after)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (retry_after != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
		    retry_after);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
say(struct MHD_Connection *c, unsigned status, const char *type,
    const char *text)
{
	return reply(c, status, type, text, strlen(text), NULL);
}

static const char *
content_type(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (dot != NULL && strcmp(dot, ".json") == 0)
		return "application/json";
	if (dot != NULL && strcmp(dot, ".xml") == 0)
		return "application/xml";
	return "text/plain";
}

/* Serves the recorded file for path (and query, for '?' routes). */
static enum MHD_Result
replay(struct MHD_Connection *c, const char *path, const char *query)
{
	char *key, *file, *body;
	const char *rel = path;
	size_t i, len;
	enum MHD_Result ret;

	key = xasprintf("%s?%s", path, query);
	for (i = 0; i < nroutes; i++) {
		const char *p = routes[i].prefix;

		if (strncmp(strchr(p, '?') != NULL ? key : path, p,
		    strlen(p)) == 0) {
			rel = routes[i].file;
			break;
		}
	}
	free(key);
	if (strstr(rel, "..") != NULL)
		return say(c, 403, "application/json",
		    "{\"error\":\"forbidden\"}");
	file = xasprintf("%s/%s", dir, rel);
	body = slurp(file, &len);
	if (body == NULL)
		ret = say(c, 404, "application/json",
		    "{\"error\":\"not found\"}");
	else
		ret = reply(c, 200, content_type(file), body, len, NULL);
	free(body);
	free(file);
	return ret;
}

static ssize_t
truncate_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	static const char part[] = "{\"data\": [1, 2, 3";

	if (pos >= sizeof(part) - 1)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (max > sizeof(part) - 1 - pos)
		max = sizeof(part) - 1 - pos;
	memcpy(buf, part + pos, max);
	return (ssize_t)max;
}

static ssize_t
huge_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	if (pos >= HUGE_BYTES)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (max > HUGE_BYTES - pos)
		max = HUGE_BYTES - pos;
	memset(buf, 'x', max);
	return (ssize_t)max;
}

static enum MHD_Result
reply_stream(struct MHD_Connection *c, uint64_t size,
    MHD_ContentReaderCallback cb)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_callback(size, 64 * 1024, cb, NULL,
	    NULL);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Waits secs or until the server stops; 0 if it is stopping. */
static int
hang(double secs)
{
	struct timespec until;
	int ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)secs;
	until.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mtx);
	while (!stopping && pthread_cond_timedwait(&stop_cv, &mtx, &until) !=
	    ETIMEDOUT)
		;
	ok = !stopping;
	pthread_mutex_unlock(&mtx);
	return ok;
}

static enum MHD_Result
serve(struct MHD_Connection *c, const char *path, const char *query,
    const struct fault *f)
{
	static const char garbage[] = "{\"data\": [1, 2,, <html>oops";
	char *file, *body, ra[32];
	size_t len;
	enum MHD_Result ret;

	switch (f->mode) {
	case M_STATUS:
		snprintf(ra, sizeof(ra), "%.0f", f->secs);
		return reply(c, (unsigned)f->status, "application/json",
		    "{\"error\":\"injected\"}", 20,
		    f->status != 429 && f->status != 503 ? NULL :
		    f->retry_after != NULL ? f->retry_after : ra);
	case M_HANG:
		if (!hang(f->secs))
			return MHD_NO;
		break;
	case M_TRUNCATE:
		return reply_stream(c, 4096, truncate_cb);
	case M_BADJSON:
		return reply(c, 200, "application/json", garbage,
		    sizeof(garbage) - 1, NULL);
	case M_EMPTY:
		if (f->body == NULL || strstr(f->body, "..") != NULL)
			return say(c, 200, "application/json", "");
		file = xasprintf("%s/%s", dir, f->body);
		body = slurp(file, &len);
		free(file);
		ret = reply(c, 200, "application/json", body != NULL ? body :
		    "", body != NULL ? len : 0, NULL);
		free(body);
		return ret;
	case M_HUGE:
		return reply_stream(c, MHD_SIZE_UNKNOWN, huge_cb);
	case M_NONE:
		break;
	}
	return replay(c, path, query);
}

/* /_fault, /_log, /_reset. */
static enum MHD_Result
control(struct MHD_Connection *c, const char *path)
{
	const char *mode, *count, *body, *ra;
	struct fault f;
	enum MHD_Result ret;

	if (strcmp(path, "/_log") == 0) {
		pthread_mutex_lock(&mtx);
		ret = reply(c, 200, "application/x-ndjson",
		    logbuf != NULL ? logbuf : "", loglen, NULL);
		pthread_mutex_unlock(&mtx);
		return ret;
	}
	if (strcmp(path, "/_reset") == 0) {
		pthread_mutex_lock(&mtx);
		free(fault.body);
		free(fault.retry_after);
		memset(&fault, 0, sizeof(fault));
		fault_count = 0;
		loglen = 0;
		pthread_mutex_unlock(&mtx);
		return say(c, 200, "text/plain", "ok\n");
	}
	mode = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode");
	count = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "count");
	body = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "body");
	ra = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "retry_after");
	if (strcmp(path, "/_fault") != 0 || mode == NULL ||
	    parse_mode(mode, &f) == -1)
		return say(c, 400, "text/plain", "bad control request\n");
	pthread_mutex_lock(&mtx);
	free(fault.body);
	free(fault.retry_after);
	fault = f;
	fault.body = body != NULL ? xstrdup(body) : NULL;
	fault.retry_after = ra != NULL ? xstrdup(ra) : NULL;
	fault_count = count != NULL ? strtol(count, NULL, 10) : -1;
	pthread_mutex_unlock(&mtx);
	return say(c, 200, "text/plain", "ok\n");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	static int seen;
	struct fault f;
	const char *path = url, *slash;
	char *query, mode[64];
	enum MHD_Result ret;

	if (*con_cls == NULL) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0)
		return say(c, 405, "text/plain", "GET only\n");
	memset(&f, 0, sizeof(f));
	if (strncmp(url, "/_f/", 4) == 0) {
		if ((slash = strchr(url + 4, '/')) == NULL ||
		    (size_t)(slash - url - 4) >= sizeof(mode))
			return say(c, 400, "text/plain", "bad fault path\n");
		snprintf(mode, sizeof(mode), "%.*s", (int)(slash - url - 4),
		    url + 4);
		if (parse_mode(mode, &f) == -1)
			return say(c, 400, "text/plain", "bad fault mode\n");
		path = slash;
	} else if (strncmp(url, "/_", 2) == 0)
		return control(c, url);
	pthread_mutex_lock(&mtx);
	if (fault_count != 0) {
		f = fault;
		if (f.body != NULL)
			f.body = xstrdup(f.body);
		if (f.retry_after != NULL)
			f.retry_after = xstrdup(f.retry_after);
		if (fault_count > 0)
			fault_count--;
	}
	pthread_mutex_unlock(&mtx);
	query = xstrdup("");
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &query);
	log_request(c, method, path, query, &f);
	ret = serve(c, path, query, &f);
	free(query);
	free(f.body);
	free(f.retry_after);
	return ret;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;
	const char *routes_file = NULL;
	char *def;
	sigset_t set;
	int ch, sig;

	while ((ch = getopt(argc, argv, "l:r:")) != -1) {
		switch (ch) {
		case 'l':
			if ((logfile = fopen(optarg, "a")) == NULL) {
				fprintf(stderr, "ci-server: %s: %s\n", optarg,
				    strerror(errno));
				return 2;
			}
			break;
		case 'r':
			routes_file = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	dir = argv[optind];
	if (routes_file != NULL)
		load_routes(routes_file, 1);
	else {
		def = xasprintf("%s/routes", dir);
		load_routes(def, 0);
		free(def);
	}

	/* Connection threads inherit the mask; only main takes signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
	    NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "ci-server: cannot start the server\n");
		return 1;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	printf("%u\n", (unsigned)info->port);
	fflush(stdout);

	while (sigwait(&set, &sig) != 0)
		;
	pthread_mutex_lock(&mtx);
	stopping = 1;
	pthread_cond_broadcast(&stop_cv);
	pthread_mutex_unlock(&mtx);
	MHD_stop_daemon(d);
	if (logfile != NULL)
		fclose(logfile);
	free(logbuf);
	free(fault.body);
	free(fault.retry_after);
	return 0;
usage:
	fprintf(stderr, "usage: ci-server [-l LOGFILE] [-r ROUTES] DIR\n");
	return 2;
}
