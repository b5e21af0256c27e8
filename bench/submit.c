/*
 * bench-submit: durable submits over the control socket.
 *
 * Starts C client threads, each with its own connection, that together send
 * N submit requests one after another (each waits for its acknowledgement,
 * which ebbd sends only after the job is committed to disk). Prints the
 * throughput and the p50/p99/max latency. Usage:
 *   bench-submit -s SOCKET [-c CLIENTS] [-n TOTAL] [-a ARGV0]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/proto.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"

extern char **environ;

struct client {
	pthread_t	 th;
	const char	*sock;
	const char	*argv0;
	int		 n;
	int64_t		*lat;	/* ns per request */
	int		 failed;
};

static int
dial(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return -1;
	return fd;
}

static void *
run(void *arg)
{
	struct client *c = arg;
	json_t *env = json_array(), *req;
	char err[256], cwd[4096];
	int fd = dial(c->sock);

	if (fd == -1) {
		fprintf(stderr, "bench-submit: connect %s: %s\n", c->sock,
		    strerror(errno));
		c->failed = c->n;
		return NULL;
	}
	for (char **e = environ; *e; e++)
		json_array_append_new(env, json_string(*e));
	req = json_pack("{s:i, s:s, s:{s:{s:[s, s], s:o, s:s, s:s}}}", "v",
	    EBB_PROTO_VERSION, "cmd", "submit", "args", "job", "argv",
	    c->argv0, "bench", "env", env, "workdir", getcwd(cwd, sizeof(cwd)),
	    "name", "bench");
	for (int i = 0; i < c->n; i++) {
		int64_t t0 = ebb_mono_ns();
		json_t *rep;

		if (proto_send(fd, req, err, sizeof(err)) == -1 ||
		    (rep = proto_recv(fd, err, sizeof(err))) == NULL) {
			fprintf(stderr, "bench-submit: %s\n", err);
			c->failed += c->n - i;
			break;
		}
		if (!json_is_true(json_object_get(rep, "ok")))
			c->failed++;
		json_decref(rep);
		c->lat[i] = ebb_mono_ns() - t0;
	}
	json_decref(req);
	close(fd);
	return NULL;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	const char *sock = NULL, *argv0 = "true";
	int clients = 1, total = 10000, ch, failed = 0;
	struct client *cs;
	int64_t t0, t1, *all;
	size_t n = 0;
	double secs;

	while ((ch = getopt(argc, argv, "a:c:n:s:")) != -1) {
		switch (ch) {
		case 'a':
			argv0 = optarg;
			break;
		case 'c':
			clients = atoi(optarg);
			break;
		case 'n':
			total = atoi(optarg);
			break;
		case 's':
			sock = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL || clients < 1 || total < clients)
		goto usage;
	cs = xcalloc((size_t)clients, sizeof(*cs));
	all = xcalloc((size_t)total, sizeof(*all));
	t0 = ebb_mono_ns();
	for (int i = 0; i < clients; i++) {
		cs[i].sock = sock;
		cs[i].argv0 = argv0;
		cs[i].n = total / clients + (i < total % clients);
		cs[i].lat = xcalloc((size_t)cs[i].n, sizeof(int64_t));
		pthread_create(&cs[i].th, NULL, run, &cs[i]);
	}
	for (int i = 0; i < clients; i++) {
		pthread_join(cs[i].th, NULL);
		memcpy(all + n, cs[i].lat, (size_t)cs[i].n * sizeof(int64_t));
		n += (size_t)cs[i].n;
		failed += cs[i].failed;
		free(cs[i].lat);
	}
	t1 = ebb_mono_ns();
	qsort(all, n, sizeof(*all), cmp64);
	secs = (double)(t1 - t0) / 1e9;
	printf("clients=%d submits=%zu failed=%d seconds=%.3f jobs/s=%.0f "
	    "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", clients, n, failed, secs,
	    (double)(n - (size_t)failed) / secs, (double)all[n / 2] / 1e6,
	    (double)all[n * 99 / 100] / 1e6, (double)all[n - 1] / 1e6);
	free(all);
	free(cs);
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: bench-submit -s SOCKET [-c CLIENTS] "
	    "[-n TOTAL] [-a ARGV0]\n");
	return 2;
}
