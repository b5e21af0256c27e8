/*
 * kube: the backend that runs jobs as batch/v1 Jobs on a Kubernetes
 * cluster, one backend per site, through the API server's HTTPS API
 * (common/http on the loop; credentials from runner/kubeconf).
 *
 * place() creates the Job at plan time, suspended (spec.suspend true), in
 * the site's namespace, named ebb-<instance>-<job id> and labelled
 * ebb.dev/instance and ebb.dev/job so that ebb finds it again; its
 * annotations carry the job's owner, deadline and planned start. At the
 * planned start a JSON merge patch {"metadata":{"resourceVersion":RV},
 * "spec":{"suspend":false}} releases it; a 409 (the Job changed since RV)
 * re-reads it and tries again. Re-planning before the release only moves
 * the time (place() again). cancel() deletes the Job with propagation
 * Background. The pod runs as the job's uid and gid (runAsUser,
 * runAsGroup, runAsNonRoot, no privilege escalation): a user cannot get
 * more in the cluster through ebb than their own ids.
 *
 * What the cluster does is learnt from one LIST of the namespace's Jobs,
 * then a WATCH from the list's resourceVersion (newline-delimited JSON
 * events; chunks are not events); the watch ends every `resync` seconds
 * and goes on from the last version seen; a 410 Expired (as an ERROR
 * event in the stream or as the answer) and any failure lead to a new
 * LIST, after a backoff on failure. Jobs: suspended, then started
 * (status.startTime), then Complete or Failed (conditions) -> events
 * "handed", "started", "finished" (energy_method "model": ebbd estimates
 * it from cpus and run time), or "ended" when the Job vanished before it
 * finished. A Job labelled with this instance that no placement knows is
 * reported "stray" (ebbd deletes it unless the job is active).
 *
 * Never twice: nothing is created before the first LIST has answered, a
 * create is sent once (never retried by the HTTP layer), and after a
 * create whose answer was lost (or a 409 AlreadyExists, or a 5xx) nothing
 * is created for that job again before a LIST started after it has shown
 * the Job is not there. No token, key or request body is ever logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/http.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "config/jobfile.h"
#include "runner/backend.h"
#include "runner/kubeconf.h"

#define REQ_TIMEOUT	30.0		/* s for one API request */
#define BODY_MAX	(64u << 20)	/* bytes of one answer (a LIST) */
#define LINE_MAX_B	(4u << 20)	/* bytes of one watch event */
#define BACKOFF_MAX	300.0		/* s between tries, at most */
#define LIST_PAGE	500		/* Jobs per page of a LIST */
#define TOKEN_REFRESH	60.0		/* s between token file reads */
#define TICK		1.0		/* s between looks at due work */
#define TTL_FINISHED	86400		/* s a finished Job stays there */
#define KUBE_NOBODY	65534		/* uid of adopted Jobs: nobody here */

enum kreq { KR_LIST, KR_WATCH, KR_CREATE, KR_PATCH, KR_GET, KR_DELETE,
	KR_ENERGY };

/*
 * What Prometheus is asked for a Job's energy, in turn: Kepler's counters
 * (joules), newest first, then the kubelet's (cAdvisor's) CPU time of its
 * containers (seconds: ebbd models the energy from it); with the
 * selector's namespace and pod labels.
 */
static const struct {
	const char *metric, *ns_label, *pod_label;
	int cpu;			/* CPU seconds, not joules */
} kepler[] = {
	{ "kepler_container_joules_total", "container_namespace", "pod_name",
	  0 },
	{ "kepler_pod_cpu_joules_total", "pod_namespace", "pod_name", 0 },
	{ "container_cpu_usage_seconds_total", "namespace", "pod", 1 },
};
#define NKEPLER	(sizeof(kepler) / sizeof(kepler[0]))
#define ENERGY_TRIES	3	/* queries that fail before the model */
#define KEPLER_MAX_W	2000.0	/* W per cpu beyond belief */

struct kjob {
	int64_t		 id;
	char		*name;		/* the Job's name */
	json_t		*spec;		/* ebbd's job spec */
	int64_t		 want;		/* release time the plan wants */
	char		*rv;		/* the Job's resourceVersion seen */
	int		 exists;	/* the cluster has it (last we saw) */
	int		 adopted;	/* created with kubectl; found by name */
	char		*uid;		/* the Job's metadata.uid, once seen:
					   another Job of that name is not it */
	unsigned	 seen_gen;	/* gen_started when last seen there */
	unsigned	 list_seen;	/* the LIST (gen) whose pages had it */
	int		 suspended;
	int		 handed_sent, started_sent, done;
	int		 cancel;	/* deletion wanted */
	int		 busy;		/* a request for it is running */
	unsigned	 unsure_gen;	/* a LIST started after this decides
					   whether a create went through */
	int		 unsure;
	int		 fails;
	double		 retry_at;	/* loop time of the next try */
	json_t		*fin;		/* "finished" waiting for its energy */
	double		 released_at;	/* loop time it was seen released with
					   no ready pod; 0: not (yet) */
	int		 ready_seen;	/* a pod of it was ready once */
	char		*fail_why;	/* deleted by ebb because of this */
	double		 energy_at;	/* loop time to ask Prometheus */
	unsigned	 metric;	/* kepler[] entry being asked */
	int64_t		 t0, t1;	/* run time, for the query */
	struct kjob	*next;
};

/* What a request is for: its callback argument. */
struct call {
	struct backend	*b;
	enum kreq	 what;
	int64_t		 id;		/* job, for per-job requests */
	unsigned	 gen;		/* LIST: its number */
	struct call	*next;
};

struct backend {
	struct ev_loop	*loop;
	struct backend_evq q;
	char		*site, *instance, *ns;
	struct kube_creds creds;
	json_t		*node_selector;	/* object, or NULL */
	int		 adopt;		/* plan Jobs annotated ebb.dev/ */
	json_t		*refused;	/* Jobs not adopted, by uid: said once */
	double		 resync;
	char		*prom;		/* Prometheus base URL, or NULL */
	double		 prom_lag;
	double		 start_timeout;	/* s; 0: none */
	struct http	*http;
	struct kjob	*jobs;
	struct call	*calls;
	ev_timer	 tick, token;
	/* The view of the cluster. */
	int		 listed;	/* a LIST has answered */
	int		 listed_gen_ok;	/* the last LIST is the watch's base */
	int		 listing, watching;
	unsigned	 page_gen;	/* the LIST whose next page is asked */
	char		*list_rv;	/* its first page's resourceVersion */
	unsigned	 gen_started, gen_done;	/* LISTs started, answered */
	char		*rv;		/* last resourceVersion seen */
	int		 list_fails;
	int		 watch_fails;	/* watches that ended at once, in a row */
	double		 watch_at;	/* loop time of the next WATCH */
	double		 watch_began;
	double		 list_at;	/* loop time of the next LIST */
	struct strbuf	 line;		/* partial watch event */
	int		 line_over;	/* the event in `line` is too long */
	/* For `ebb sites`. */
	const char	*state;
	int64_t		 since;
	char		*error;
};

static void	kick(struct backend *);

static struct kjob *
find(struct backend *b, int64_t id)
{
	for (struct kjob *k = b->jobs; k != NULL; k = k->next)
		if (k->id == id)
			return k;
	return NULL;
}

static void
kjob_free(struct kjob *k)
{
	free(k->name);
	free(k->fail_why);
	free(k->uid);
	free(k->rv);
	json_decref(k->spec);
	json_decref(k->fin);
	free(k);
}

static void
drop(struct backend *b, struct kjob *k)
{
	struct kjob **p;

	for (p = &b->jobs; *p != NULL; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	kjob_free(k);
}

static void
emit(struct backend *b, int64_t id, json_t *ev)
{
	backend_evq_push(&b->q, id, ev);
}

/* The cluster's health for `ebb sites`. */
static void
health(struct backend *b, const char *state, const char *error)
{
	if (b->state == NULL || strcmp(b->state, state) != 0) {
		b->state = state;
		b->since = ebb_now();
		if (strcmp(state, "failing") == 0)
			log_warnx("site %s: Kubernetes API: %s", b->site, error);
		else if (strcmp(state, "ok") == 0)
			log_info("site %s: Kubernetes API answers", b->site);
	}
	free(b->error);
	b->error = error != NULL ? xstrdup(error) : NULL;
}

/*---- requests ----*/

static void	on_resp(void *arg, const struct http_resp *);
static int	on_stream(void *arg, const char *data, size_t len);

static int
request(struct backend *b, enum kreq what, int64_t id, const char *method,
    const char *path, const char *ctype, const char *body)
{
	struct call *c = xcalloc(1, sizeof(*c));
	char *auth = NULL, ct[128], err[256];
	const char *hdrs[4];
	char *url = xasprintf("%s%s", what == KR_ENERGY ? b->prom :
	    b->creds.server, path);
	size_t n = 0;
	int rc;
	struct http_req r = {
		.url = url, .method = method, .headers = hdrs,
		.timeout_s = what == KR_WATCH ? b->resync + REQ_TIMEOUT :
		    REQ_TIMEOUT,
		.max_body = BODY_MAX, .max_tries = 1,
		.ca_pem = b->creds.ca_pem, .cert_pem = b->creds.cert_pem,
		.key_pem = b->creds.key_pem,
		.stream_cb = what == KR_WATCH ? on_stream : NULL,
	};

	hdrs[n++] = "Accept: application/json";
	if (what == KR_ENERGY) {
		r.ca_pem = r.cert_pem = r.key_pem = NULL;	/* not the API's */
	} else if (b->creds.token != NULL) {
		auth = xasprintf("Authorization: Bearer %s", b->creds.token);
		hdrs[n++] = auth;
	}
	if (ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		hdrs[n++] = ct;
	}
	hdrs[n] = NULL;
	if (body != NULL) {
		r.body = body;
		r.body_len = strlen(body);
	}
	c->b = b;
	c->what = what;
	c->id = id;
	c->gen = what != KR_LIST ? 0 : b->page_gen != 0 ? b->page_gen :
	    ++b->gen_started;
	rc = http_request(b->http, &r, on_resp, c, err, sizeof(err));
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(url);
	if (rc == -1) {
		log_warnx("site %s: %s", b->site, err);
		free(c);
		return -1;
	}
	c->next = b->calls;
	b->calls = c;
	return 0;
}

static void
call_unlink(struct backend *b, struct call *c)
{
	for (struct call **p = &b->calls; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			return;
		}
}

/* The message of a Kubernetes Status answer, or the HTTP error. */
static void
why(const struct http_resp *r, char *out, size_t len)
{
	json_t *st = NULL;
	const char *m = NULL;

	if (r->status >= 400 && r->body != NULL)
		st = json_loadb(r->body, r->len, 0, NULL);
	if (st != NULL)
		m = json_string_value(json_object_get(st, "message"));
	if (m != NULL)
		snprintf(out, len, "HTTP %ld: %.300s", r->status, m);
	else
		snprintf(out, len, "%s", r->error != NULL ? r->error :
		    "unexpected answer");
	json_decref(st);
}

static char *
jobs_path(struct backend *b, const char *name, const char *query)
{
	return xasprintf("/apis/batch/v1/namespaces/%s/jobs%s%s%s%s", b->ns,
	    name ? "/" : "", name ? name : "", query ? "?" : "",
	    query ? query : "");
}

/*---- what the cluster says about a Job ----*/

static const json_t *
cond(const json_t *obj, const char *type)
{
	const json_t *cs = json_object_get(json_object_get(obj, "status"),
	    "conditions"), *c;
	size_t i;

	json_array_foreach(cs, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c,
		    "status"));

		if (t != NULL && s != NULL && strcmp(t, type) == 0 &&
		    strcmp(s, "True") == 0)
			return c;
	}
	return NULL;
}

static int64_t
stamp(const json_t *v)
{
	int64_t t;

	if (!json_is_string(v) || ebb_parse_stamp(json_string_value(v), &t)
	    == -1)
		return 0;
	return t;
}

/* Our job id from the Job's labels, or -1 if it is not this instance's. */
static int64_t
our_id(struct backend *b, const json_t *obj)
{
	const json_t *l = json_object_get(json_object_get(obj, "metadata"),
	    "labels");
	const char *inst = json_string_value(json_object_get(l,
	    "ebb.dev/instance"));
	const char *id = json_string_value(json_object_get(l, "ebb.dev/job"));
	char *end;
	long long v;

	const char *name = json_string_value(json_object_get(
	    json_object_get(obj, "metadata"), "name"));
	char want[96];

	if (inst == NULL || id == NULL || name == NULL ||
	    strcmp(inst, b->instance) != 0)
		return -1;
	v = strtoll(id, &end, 10);
	if (*end != '\0' || end == id || v <= 0)
		return -1;
	/* Labels alone anyone may write: the name must be the one ebb
	 * gives (and mine() checks the uid it saw first). */
	snprintf(want, sizeof(want), "ebb-%s-%lld", b->instance, v);
	return strcmp(name, want) == 0 ? v : -1;
}

static const char *
meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), key));
}

/* The placement a Job belongs to: by its labels, or adopted by name. */
static struct kjob *
mine(struct backend *b, const json_t *obj)
{
	int64_t id = our_id(b, obj);
	const char *name = meta_str(obj, "name");

	const char *uid = meta_str(obj, "uid");
	struct kjob *k = NULL;

	if (id > 0)
		k = find(b, id);
	else
		for (k = b->jobs; k != NULL && name != NULL; k = k->next)
			if (k->adopted && strcmp(k->name, name) == 0)
				break;
	if (k == NULL)
		return NULL;
	if (k->uid != NULL && (uid == NULL || strcmp(uid, k->uid) != 0))
		return NULL;	/* deleted and made again by someone else */
	if (k->uid == NULL && uid != NULL)
		k->uid = xstrdup(uid);
	return k;
}

/* Does a comma-separated list of sites (NULL: any) hold site? */
static int
sites_allow(const char *list, const char *site)
{
	size_t n = strlen(site);

	if (list == NULL)
		return 1;
	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ",");

		while (len > 0 && *p == ' ')
			p++, len--;
		if (len == n && strncmp(p, site, n) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/*
 * A Job created in the cluster (kubectl) that asks to be planned:
 * suspended, annotated ebb.dev/max-delay, not managed by another queueing
 * controller (Kueue's label) -> a "foreign" event; ebbd records it once
 * (by name and creation time) and places it like its own.
 */
static void
foreign(struct backend *b, const json_t *obj)
{
	const json_t *md = json_object_get(obj, "metadata");
	const json_t *an = json_object_get(md, "annotations");
	const json_t *lb = json_object_get(md, "labels");
	const json_t *pod = json_object_get(json_object_get(json_object_get(
	    obj, "spec"), "template"), "spec");
	const char *maxd = json_string_value(json_object_get(an,
	    "ebb.dev/max-delay"));
	const char *dur = json_string_value(json_object_get(an,
	    "ebb.dev/duration"));
	const char *dl = json_string_value(json_object_get(an,
	    "ebb.dev/deadline"));
	const char *name = meta_str(obj, "name"), *uid = meta_str(obj, "uid");
	json_int_t cpus = 1;
	const json_t *res;
	const char *q;
	double v;
	struct strbuf c = STRBUF_INIT;
	char *user;
	json_t *ev;

	if (!b->adopt || maxd == NULL || name == NULL || uid == NULL ||
	    strncmp(name, "ebb-", 4) == 0 ||
	    !json_is_true(json_object_get(json_object_get(obj, "spec"),
	    "suspend")) || json_object_get(lb, "ebb.dev/instance") != NULL ||
	    stamp(json_object_get(obj, "status") ? json_object_get(
	    json_object_get(obj, "status"), "completionTime") : NULL) > 0)
		return;
	if (!sites_allow(json_string_value(json_object_get(an,
	    "ebb.dev/sites")), b->site)) {
		/* It stays in this cluster: ebb moves no one's Job to a
		 * cluster where ebb's credentials, not theirs, would make
		 * it. */
		if (json_object_get(b->refused, uid) == NULL) {
			json_object_set_new(b->refused, uid, json_true());
			log_info("site %s: Job %s asks ebb to plan it but its "
			    "ebb.dev/sites does not list %s, where it is: "
			    "left alone", b->site, name, b->site);
		}
		return;
	}
	if (json_object_get(lb, "kueue.x-k8s.io/queue-name") != NULL) {
		if (json_object_get(b->refused, uid) == NULL) {
			json_object_set_new(b->refused, uid, json_true());
			log_info("site %s: Job %s asks ebb to plan it but Kueue "
			    "manages it (kueue.x-k8s.io/queue-name): left "
			    "alone", b->site, name);
		}
		return;
	}
	/* Its cpus: its first container's cpu limit, else its request,
	 * whole cpus. */
	res = json_object_get(json_array_get(json_object_get(pod,
	    "containers"), 0), "resources");
	if ((q = json_string_value(json_object_get(json_object_get(res,
	    "limits"), "cpu"))) == NULL)
		q = json_string_value(json_object_get(json_object_get(res,
		    "requests"), "cpu"));
	if (q != NULL && jobfile_quantity(q, &v) == 0 && v <= 4096 &&
	    ceil(v - 1e-9) > 1)
		cpus = (json_int_t)ceil(v - 1e-9);
	strbuf_addf(&c, "ebb:max-delay=%s", maxd);
	if (dur != NULL)
		strbuf_addf(&c, ",duration=%s", dur);
	if (dl != NULL)
		strbuf_addf(&c, ",deadline=%s", dl);
	user = xasprintf("k8s:%s", b->ns);
	ev = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:i, s:I, s:s, s:s}",
	    "type", "foreign", "ext_id", name, "submit_time",
	    (json_int_t)stamp(json_object_get(md, "creationTimestamp")),
	    "uid", (json_int_t)KUBE_NOBODY, "user", user,
	    "name", name, "cpus", (int)cpus, "time_limit", (json_int_t)json_integer_value(
	    json_object_get(json_object_get(obj, "spec"),
	    "activeDeadlineSeconds")), "workdir", "/", "comment",
	    strbuf_str(&c));
	free(user);
	strbuf_free(&c);
	if (ev != NULL)
		emit(b, 0, ev);
}

static void
set_rv(char **slot, const json_t *obj)
{
	const char *rv = json_string_value(json_object_get(json_object_get(obj,
	    "metadata"), "resourceVersion"));

	if (rv != NULL) {
		free(*slot);
		*slot = xstrdup(rv);
	}
}

/* A Job of ours as the cluster has it now; its placement, or NULL. */
static struct kjob *
sync_job(struct backend *b, const json_t *obj)
{
	int64_t id = our_id(b, obj);
	const json_t *st = json_object_get(obj, "status"), *c;
	struct kjob *k = mine(b, obj);
	int64_t start, end;

	if (k == NULL) {
		/* Nobody placed it (yet): ebbd decides; a finished one (its
		 * job ended before ebbd restarted) is left to its TTL. */
		if (id > 0 && cond(obj, "Complete") == NULL &&
		    cond(obj, "Failed") == NULL)
			emit(b, id, json_pack("{s:s, s:s}", "type", "stray",
			    "ext_id", meta_str(obj, "name")));
		else
			foreign(b, obj);
		return NULL;
	}
	id = k->id;
	set_rv(&k->rv, obj);
	k->exists = 1;
	k->unsure = 0;
	k->seen_gen = b->gen_started;
	k->suspended = json_is_true(json_object_get(json_object_get(obj,
	    "spec"), "suspend"));
	if (!k->handed_sent) {
		k->handed_sent = 1;
		emit(b, id, json_pack("{s:s, s:s}", "type", "handed",
		    "ext_id", k->name));
	}
	start = stamp(json_object_get(st, "startTime"));
	/* Released: its pods should become ready (status.ready, 1.24+;
	 * a cluster without the field is not judged). */
	if (start > 0 && !k->suspended && json_is_integer(json_object_get(st,
	    "ready"))) {
		if (json_integer_value(json_object_get(st, "ready")) > 0)
			k->ready_seen = 1;
		else if (k->released_at == 0)
			k->released_at = ev_now(b->loop);
	}
	if (start > 0 && !k->suspended && !k->started_sent) {
		k->started_sent = 1;
		emit(b, id, json_pack("{s:s, s:I}", "type", "started",
		    "start_time", (json_int_t)start));
	}
	if (k->done)
		return k;
	if ((c = cond(obj, "Complete")) != NULL ||
	    (c = cond(obj, "Failed")) != NULL) {
		int ok = strcmp(json_string_value(json_object_get(c, "type")),
		    "Complete") == 0;
		json_t *ev;

		end = stamp(json_object_get(st, "completionTime"));
		if (end == 0)
			end = stamp(json_object_get(c, "lastTransitionTime"));
		if (end == 0 || end > ebb_now())
			end = ebb_now();	/* a clock ahead, or a lie */
		if (start > end)
			start = end;
		if (!k->started_sent)
			start = start > 0 ? start : end;
		ev = json_pack("{s:s, s:i, s:I, s:I, s:s, s:s}", "type",
		    "finished", "exit_code", ok ? 0 : 1, "start_time",
		    (json_int_t)(start > 0 ? start : end), "end_time",
		    (json_int_t)end, "measure", "kubernetes",
		    "energy_method", "model");
		if (!ok) {
			const char *r = json_string_value(json_object_get(c,
			    "reason"));
			const char *m = json_string_value(json_object_get(c,
			    "message"));
			char e[320];

			snprintf(e, sizeof(e), "Job failed in Kubernetes: %s%s%.256s",
			    r ? r : "Failed", m ? ": " : "", m ? m : "");
			json_object_set_new(ev, "error", json_string(e));
		}
		k->done = 1;
		if (b->prom != NULL) {
			/* Kepler's last samples need a scrape or two. */
			k->fin = ev;
			k->t0 = start > 0 ? start : end;
			k->t1 = end;
			k->energy_at = ev_now(b->loop) + b->prom_lag;
		} else
			emit(b, id, ev);
	}
	return k;
}

/*
 * The energy of a finished Job from Kepler's counter summed over its pods
 * (<name>-xxxxx): samples every `step` s over its run; the growth between
 * samples (a reset: the new value) is one ledger interval, clipped to the
 * run; *total is their sum. Returns the intervals, or NULL if Prometheus
 * has no such series or the sum is over max_j (not believed).
 */
static json_t *
kepler_intervals(const json_t *doc, int64_t t0, int64_t t1, int64_t step,
    double max_j, double *total)
{
	const json_t *res = json_object_get(json_object_get(doc, "data"),
	    "result"), *vals, *p;
	json_t *out;
	double prev = 0, pt = (double)t0;
	size_t i;

	vals = json_object_get(json_array_get(res, 0), "values");
	if (json_array_size(vals) == 0)
		return NULL;
	out = json_array();
	json_array_foreach(vals, i, p) {
		double t = json_number_value(json_array_get(p, 0));
		const char *vs = json_string_value(json_array_get(p, 1));
		double v = vs != NULL ? strtod(vs, NULL) : NAN, j;
		int64_t a, z;

		/* Samples out of the asked range or out of order, and values
		 * no counter has, are not believed. */
		if (!(v >= 0) || !isfinite(v) || !isfinite(t) ||
		    t < (double)(t0 - step) || t > (double)(t1 + 2 * step) ||
		    t < pt)
			continue;
		j = v >= prev ? v - prev : v;
		prev = v;
		a = (int64_t)pt;
		z = (int64_t)t < t1 ? (int64_t)t : t1;
		pt = t;
		if (j <= 0)
			continue;
		if (z <= a && json_array_size(out) > 0) {
			/* After the end: the last interval's. */
			json_t *last = json_array_get(out,
			    json_array_size(out) - 1);

			json_array_set_new(last, 2, json_real(json_number_value(
			    json_array_get(last, 2)) + j));
			continue;
		}
		if (z <= a)
			a = z - 1;
		json_array_append_new(out, json_pack("[I, I, f]", (json_int_t)a,
		    (json_int_t)z, j));
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	{
		double sum = 0;
		json_t *iv;

		json_array_foreach(out, i, iv)
			sum += json_number_value(json_array_get(iv, 2));
		*total = sum;
		if (!(sum <= max_j)) {
			log_warnx("Kepler's counter grew %.3g J over %" PRId64
			    " s, more than %.3g J: not believed", sum, t1 - t0,
			    max_j);
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static int64_t
energy_step(const struct kjob *k)
{
	int64_t step = (k->t1 - k->t0) / 500 + 1;

	return step < 5 ? 5 : step;
}

static int64_t
cpus_of(const struct kjob *k)
{
	json_int_t c = json_integer_value(json_object_get(k->spec, "cpus"));

	return c > 0 ? c : 1;
}

static void
do_energy(struct backend *b, struct kjob *k)
{
	int64_t step = energy_step(k);
	char *q, *eq, *path, *name = xmalloc(3 * strlen(k->name) + 1), *p;

	/* The name as a regular expression: '.' (in adopted names) is
	 * literal. Names are DNS-1123: nothing else is special. */
	p = name;
	for (const char *c = k->name; *c != '\0'; c++) {
		if (*c == '.') {	/* \\. in a PromQL string: \. */
			*p++ = '\\';
			*p++ = '\\';
		}
		*p++ = *c;
	}
	*p = '\0';
	/*
	 * cAdvisor also has a pod-level series (container=""): not it. Each
	 * point is the counter's highest sample of the step before it: a
	 * plain lookup at a point past the end finds the series gone with
	 * its pod (stale) and the run's last seconds, up to a step of them,
	 * would be lost.
	 */
	q = xasprintf("sum(max_over_time(%s{%s=\"%s\",%s=~\"%s-[a-z0-9]{5}\""
	    "%s}[%" PRId64 "s]))", kepler[k->metric].metric,
	    kepler[k->metric].ns_label, b->ns, kepler[k->metric].pod_label,
	    name, kepler[k->metric].cpu ? ",container!=\"\"" : "", step);
	free(name);
	eq = http_escape(q);
	path = xasprintf("/api/v1/query_range?query=%s&start=%" PRId64
	    "&end=%" PRId64 "&step=%" PRId64, eq, k->t0, k->t1 + step, step);
	if (request(b, KR_ENERGY, k->id, "GET", path, NULL, NULL) == 0)
		k->busy = 1;
	free(path);
	free(eq);
	free(q);
}

static void
energy_done(struct backend *b, struct kjob *k, json_t *iv, const char *how)
{
	if (iv != NULL) {
		json_object_set_new(k->fin, "energy", iv);
		json_object_set_new(k->fin, "energy_method", json_string(
		    "kepler"));
	} else
		log_info("job %" PRId64 ": no energy from Prometheus (%s): "
		    "modelled from cpus and run time", k->id, how);
	emit(b, k->id, k->fin);
	k->fin = NULL;
}

static void
on_energy(struct backend *b, struct kjob *k, const struct http_resp *r)
{
	json_t *doc = NULL, *iv;
	double total = 0;
	char e[400];

	if (r->status == 200)
		doc = json_loadb(r->body, r->len, 0, NULL);
	if (doc == NULL) {
		why(r, e, sizeof(e));
		if (++k->fails >= ENERGY_TRIES) {
			energy_done(b, k, NULL, e);
			return;
		}
		k->energy_at = ev_now(b->loop) + ebb_backoff(k->fails, 5.0,
		    60.0);
		return;
	}
	iv = kepler_intervals(doc, k->t0, k->t1, energy_step(k),
	    kepler[k->metric].cpu ? (double)cpus_of(k) * (double)(k->t1 -
	    k->t0 + energy_step(k)) : KEPLER_MAX_W * (double)cpus_of(k) *
	    (double)(k->t1 - k->t0 + 1), &total);
	json_decref(doc);
	if (iv != NULL && kepler[k->metric].cpu) {
		/* CPU seconds: the job's CPU time, for ebbd's model. */
		json_decref(iv);
		json_object_set_new(k->fin, "cpu_usec", json_integer(
		    (json_int_t)(total * 1e6)));
		json_object_set_new(k->fin, "energy_method", json_string(
		    "model"));
		emit(b, k->id, k->fin);
		k->fin = NULL;
		return;
	}
	if (iv == NULL && ++k->metric < NKEPLER) {
		k->energy_at = 0;	/* the other metric, at once */
		return;
	}
	energy_done(b, k, iv, "no Kepler or CPU series for its pods");
}

/* Cancelled before its Job was made: it ends here. */
static void
cancelled_early(struct backend *b, struct kjob *k)
{
	if (k->done)
		return;
	k->done = 1;
	emit(b, k->id, json_pack("{s:s, s:s, s:s}", "type", "ended", "state",
	    "CANCELLED", "reason", "cancelled before it was in Kubernetes"));
}

/* A Job of ours is gone from the cluster. */
static void
gone(struct backend *b, struct kjob *k, const char *how)
{
	k->exists = 0;
	if (k->fin != NULL)
		return;		/* its energy is still to come */
	if (k->done) {
		drop(b, k);
		return;
	}
	k->done = 1;
	emit(b, k->id, json_pack("{s:s, s:s, s:s}", "type", "ended", "state",
	    k->cancel && k->fail_why == NULL ? "CANCELLED" : "FAILED",
	    "reason", k->fail_why != NULL ? k->fail_why : k->cancel ?
	    "deleted by ebb" : how));
}

static void
watch_event(struct backend *b, const char *line, size_t len)
{
	json_t *ev = json_loadb(line, len, 0, NULL), *obj;
	const char *type;
	struct kjob *k;

	if (ev == NULL) {
		log_warnx("site %s: watch: an event that is not JSON", b->site);
		return;
	}
	type = json_string_value(json_object_get(ev, "type"));
	obj = json_object_get(ev, "object");
	if (type == NULL || !json_is_object(obj))
		goto out;
	if (strcmp(type, "ERROR") == 0) {
		/* 410 Expired: the history moved on; list again. Any other
		 * error ends the watch as well (a LIST follows, paced). */
		if (json_integer_value(json_object_get(obj, "code")) != 410)
			log_warnx("site %s: watch: error %" JSON_INTEGER_FORMAT
			    ": %.200s", b->site, json_integer_value(
			    json_object_get(obj, "code")), json_string_value(
			    json_object_get(obj, "message")) ?
			    json_string_value(json_object_get(obj, "message")) :
			    "");
		b->watching = -1;
		goto out;
	}
	set_rv(&b->rv, obj);
	if (strcmp(type, "BOOKMARK") == 0)
		goto out;
	if (strcmp(type, "DELETED") == 0) {
		if ((k = mine(b, obj)) != NULL)
			gone(b, k, "the Job was deleted in Kubernetes");
	} else
		sync_job(b, obj);
out:
	json_decref(ev);
}

static int
on_stream(void *arg, const char *data, size_t len)
{
	struct call *c = arg;
	struct backend *b = c->b;
	const char *nl;

	while (len > 0) {
		if ((nl = memchr(data, '\n', len)) == NULL) {
			if (!b->line_over && b->line.len + len <= LINE_MAX_B)
				strbuf_add(&b->line, data, len);
			else
				b->line_over = 1;
			return 0;
		}
		if (!b->line_over && b->line.len + (size_t)(nl - data) <=
		    LINE_MAX_B) {
			strbuf_add(&b->line, data, (size_t)(nl - data));
			if (b->line.len > 0)
				watch_event(b, strbuf_str(&b->line),
				    b->line.len);
		} else
			log_warnx("site %s: watch: an event over %u bytes, "
			    "skipped", b->site, LINE_MAX_B);
		strbuf_free(&b->line);
		b->line_over = 0;
		len -= (size_t)(nl - data) + 1;
		data = nl + 1;
		if (b->watching == -1)
			return 1;	/* ERROR event: end this watch */
	}
	return 0;
}

/*---- LIST, WATCH ----*/

/*
 * A LIST in pages of LIST_PAGE Jobs (the server keeps one snapshot for
 * all of them): cont is the previous page's continue token, NULL for the
 * first.
 */
static void
start_list_page(struct backend *b, unsigned gen, const char *cont)
{
	char *q, *e = cont != NULL ? http_escape(cont) : NULL, *p;

	q = e != NULL ? xasprintf("limit=%d&continue=%s", LIST_PAGE, e) :
	    xasprintf("limit=%d", LIST_PAGE);
	p = jobs_path(b, NULL, q);
	b->page_gen = gen;
	if (request(b, KR_LIST, 0, "GET", p, NULL, NULL) == 0)
		b->listing = 1;
	b->page_gen = 0;
	free(p);
	free(q);
	free(e);
}

static void
start_list(struct backend *b)
{
	start_list_page(b, 0, NULL);
}

static void
start_watch(struct backend *b)
{
	char *rv = http_escape(b->rv), *q, *p;

	q = xasprintf("watch=1&allowWatchBookmarks=true&resourceVersion=%s&"
	    "timeoutSeconds=%.0f", rv, b->resync);
	p = jobs_path(b, NULL, q);
	free(q);
	free(rv);
	strbuf_free(&b->line);
	b->line_over = 0;
	b->watch_began = ev_now(b->loop);
	if (request(b, KR_WATCH, 0, "GET", p, NULL, NULL) == 0)
		b->watching = 1;
	free(p);
}

static void
on_list(struct backend *b, struct call *c, const struct http_resp *r)
{
	json_t *doc = NULL, *items, *it;
	const char *cont;
	struct kjob *mk;
	char e[400];
	size_t i;

	b->listing = 0;
	if (r->error == NULL)
		doc = json_loadb(r->body, r->len, 0, NULL);
	items = json_object_get(doc, "items");
	if (r->status == 410) {
		/* A continue token that expired: the whole LIST again. */
		json_decref(doc);
		start_list(b);
		return;
	}
	if (!json_is_array(items)) {
		if (r->error == NULL)
			snprintf(e, sizeof(e), "LIST: not a JobList");
		else
			why(r, e, sizeof(e));
		health(b, "failing", e);
		b->list_at = ev_now(b->loop) + ebb_backoff(++b->list_fails, 1.0,
		    BACKOFF_MAX);
		json_decref(doc);
		return;
	}
	b->list_fails = 0;
	health(b, "ok", NULL);
	json_array_foreach(items, i, it)
		if ((mk = sync_job(b, it)) != NULL)
			mk->list_seen = c->gen;
	if (b->list_rv == NULL || b->gen_done != c->gen) {
		free(b->list_rv);	/* the first page's: the snapshot's */
		b->list_rv = NULL;
		set_rv(&b->list_rv, doc);
	}
	b->gen_done = c->gen;
	cont = json_string_value(json_object_get(json_object_get(doc,
	    "metadata"), "continue"));
	if (cont != NULL && *cont != '\0') {
		start_list_page(b, c->gen, cont);
		json_decref(doc);
		return;
	}
	/* Ours that the list lacks: gone, or never created. */
	for (struct kjob *k = b->jobs, *next; k != NULL; k = next) {
		next = k->next;
		/* Seen (or created) after this LIST began: the list is
		 * older than what we know. */
		if (k->list_seen == c->gen || k->busy || k->seen_gen >= c->gen)
			continue;
		if (k->exists || (k->handed_sent && !k->unsure))
			gone(b, k, k->exists ? "the Job was deleted in "
			    "Kubernetes" : "the Job vanished while ebbd was "
			    "down");
		else if (k->unsure && c->gen > k->unsure_gen)
			k->unsure = 0;	/* the create did not go through */
	}
	free(b->rv);
	b->rv = b->list_rv != NULL ? b->list_rv : xstrdup("0");
	b->list_rv = NULL;
	b->listed = 1;
	b->listed_gen_ok = 1;
	json_decref(doc);
	b->watch_at = 0;	/* a WATCH from this list's version */
}

static void
on_watch_end(struct backend *b, const struct http_resp *r)
{
	char e[400];

	double now = ev_now(b->loop), wait;
	int expired = b->watching == -1 || r->status == 410;

	b->watching = 0;
	/* A server (or proxy) that ends watches at once, or sends ERROR
	 * after ERROR, is not asked again in a tight loop. */
	if (now - b->watch_began < 1.0)
		b->watch_fails++;
	else
		b->watch_fails = 0;
	wait = b->watch_fails > 0 ? ebb_backoff(b->watch_fails, 1.0,
	    BACKOFF_MAX) : 0;
	if (expired) {
		b->list_at = now + wait;	/* expired: list again */
		b->listed_gen_ok = 0;
		return;
	}
	if (r->error != NULL) {
		why(r, e, sizeof(e));
		health(b, "failing", e);
		b->list_at = now + ebb_backoff(++b->list_fails, 1.0,
		    BACKOFF_MAX);
		b->listed_gen_ok = 0;
		return;
	}
	b->watch_at = now + wait;	/* the server ended it (timeoutSeconds) */
}

/*---- per-job requests ----*/

static char *
label_value(const char *s)
{
	/* Label values: [A-Za-z0-9._-], <= 63, alnum at both ends. */
	char *v = xstrndup(s, 63);
	size_t n;

	for (char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			*p = '_';
	while ((n = strlen(v)) > 0 && !((v[n - 1] >= 'a' && v[n - 1] <= 'z')
	    || (v[n - 1] >= 'A' && v[n - 1] <= 'Z') ||
	    (v[n - 1] >= '0' && v[n - 1] <= '9')))
		v[n - 1] = '\0';
	while (v[0] != '\0' && !((v[0] >= 'a' && v[0] <= 'z') ||
	    (v[0] >= 'A' && v[0] <= 'Z') || (v[0] >= '0' && v[0] <= '9')))
		memmove(v, v + 1, strlen(v));
	return v;
}

/* The batch/v1 Job ebb creates for a job spec (new reference). */
static json_t *
manifest(struct backend *b, const struct kjob *k)
{
	const json_t *s = k->spec;
	json_t *env = json_array(), *v, *job, *res, *ctr, *pod;
	const char *image = json_string_value(json_object_get(s, "image"));
	json_int_t cpus = json_integer_value(json_object_get(s, "cpus"));
	json_int_t mem = json_integer_value(json_object_get(s, "mem"));
	json_int_t gpus = json_integer_value(json_object_get(s, "gpus"));
	json_int_t deadline = json_integer_value(json_object_get(s,
	    "deadline"));
	char ids[32], when[32], *user;
	size_t i;

	json_array_foreach(json_object_get(s, "env"), i, v) {
		const char *kv = json_string_value(v), *eq;

		if (kv == NULL || (eq = strchr(kv, '=')) == NULL || eq == kv)
			continue;
		json_array_append_new(env, json_pack("{s:s%, s:s}", "name", kv,
		    (size_t)(eq - kv), "value", eq + 1));
	}
	snprintf(ids, sizeof(ids), "%" PRId64, k->id);
	res = json_pack("{s:s}", "cpu", "1");
	if (cpus > 0)
		json_object_set_new(res, "cpu", json_sprintf("%" JSON_INTEGER_FORMAT,
		    cpus));
	if (mem > 0)
		json_object_set_new(res, "memory", json_sprintf("%"
		    JSON_INTEGER_FORMAT, mem));
	if (gpus > 0)	/* the device plugin's resource; limit = request */
		json_object_set_new(res, "nvidia.com/gpu", json_sprintf("%"
		    JSON_INTEGER_FORMAT, gpus));
	ctr = json_pack("{s:s, s:s, s:O, s:o, s:{s:O, s:O}, s:{s:b, s:{s:[s]}}}",
	    "name", "job", "image", image != NULL ? image : "",
	    "command", json_object_get(s, "argv"), "env", env,
	    "resources", "requests", res, "limits", res,
	    "securityContext", "allowPrivilegeEscalation", 0,
	    "capabilities", "drop", "ALL");
	json_decref(res);
	pod = json_pack("{s:s, s:[o], s:{s:I, s:I, s:b}, s:b}",
	    "restartPolicy", "Never", "containers", ctr,
	    "securityContext", "runAsUser",
	    json_integer_value(json_object_get(s, "uid")), "runAsGroup",
	    json_integer_value(json_object_get(s, "gid")), "runAsNonRoot", 1,
	    "automountServiceAccountToken", 0);
	if (b->node_selector != NULL)
		json_object_set(pod, "nodeSelector", b->node_selector);
	user = label_value(json_string_value(json_object_get(s, "user")) ?
	    json_string_value(json_object_get(s, "user")) : "");
	job = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s, s:s, s:s}, "
	    "s:{s:s}}, s:{s:b, s:i, s:{s:{s:{s:s, s:s}}, s:o}}}",
	    "apiVersion", "batch/v1", "kind", "Job",
	    "metadata", "name", k->name, "namespace", b->ns,
	    "labels", "app.kubernetes.io/managed-by", "ebb",
	    "ebb.dev/instance", b->instance, "ebb.dev/job", ids,
	    "ebb.dev/user", user,
	    "annotations", "ebb.dev/planned-start",
	    ebb_fmt_time(k->want, when, sizeof(when)),
	    "spec", "suspend", 1, "backoffLimit", 0,
	    "template", "metadata", "labels", "ebb.dev/instance", b->instance,
	    "ebb.dev/job", ids, "spec", pod);
	free(user);
	json_object_set_new(json_object_get(job, "spec"),
	    "ttlSecondsAfterFinished", json_integer(TTL_FINISHED));
	if (deadline > 0)
		json_object_set_new(json_object_get(json_object_get(job,
		    "metadata"), "annotations"), "ebb.dev/deadline",
		    json_string(ebb_fmt_time(deadline, when, sizeof(when))));
	return job;
}

static void
job_retry(struct backend *b, struct kjob *k)
{
	k->retry_at = ev_now(b->loop) + ebb_backoff(++k->fails, 1.0,
	    BACKOFF_MAX);
}

static void
do_create(struct backend *b, struct kjob *k)
{
	json_t *m = manifest(b, k);
	char *body = json_dumps(m, JSON_COMPACT), *p = jobs_path(b, NULL,
	    "fieldManager=ebb");

	json_decref(m);
	if (request(b, KR_CREATE, k->id, "POST", p, "application/json",
	    body) == 0)
		k->busy = 1;
	free(p);
	free(body);
}

static void
on_create(struct backend *b, struct kjob *k, const struct http_resp *r)
{
	json_t *obj;
	char e[400];

	if (r->status == 201 || r->status == 200) {
		k->fails = 0;
		k->seen_gen = b->gen_started;
		if ((obj = json_loadb(r->body, r->len, 0, NULL)) != NULL)
			sync_job(b, obj);
		json_decref(obj);
		return;
	}
	why(r, e, sizeof(e));
	if (r->status == 409) {
		/* ebb creates a name once; after a lost answer it looks
		 * rather than creates again: this Job is someone else's. */
		k->done = 1;
		emit(b, k->id, json_pack("{s:s, s:s}", "type", "rejected",
		    "reason", "a Job of that name, not made by ebb, is in the "
		    "namespace already"));
		return;
	}
	if (r->status == 0 || r->status >= 500 || r->status == 429) {
		/* It may be there: only a later LIST may say it is not. */
		k->unsure = 1;
		k->unsure_gen = b->gen_started;
		job_retry(b, k);
		health(b, "failing", e);
		if (!b->listing)
			start_list(b);
		return;
	}
	k->done = 1;
	emit(b, k->id, json_pack("{s:s, s:s}", "type", "rejected", "reason",
	    e));
}

static void
do_release(struct backend *b, struct kjob *k)
{
	json_t *patch = json_pack("{s:{s:s}, s:{s:b}}", "metadata",
	    "resourceVersion", k->rv ? k->rv : "", "spec", "suspend", 0);
	char *body = json_dumps(patch, JSON_COMPACT);
	char *p = jobs_path(b, k->name, "fieldManager=ebb");

	json_decref(patch);
	if (request(b, KR_PATCH, k->id, "PATCH", p,
	    "application/merge-patch+json", body) == 0)
		k->busy = 1;
	free(p);
	free(body);
}

static void
do_get(struct backend *b, struct kjob *k)
{
	char *p = jobs_path(b, k->name, NULL);

	if (request(b, KR_GET, k->id, "GET", p, NULL, NULL) == 0)
		k->busy = 1;
	free(p);
}

static void
do_delete(struct backend *b, struct kjob *k)
{
	char *p = jobs_path(b, k->name, NULL);

	if (request(b, KR_DELETE, k->id, "DELETE", p, "application/json",
	    "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
	    "\"propagationPolicy\":\"Background\"}") == 0)
		k->busy = 1;
	free(p);
}

static void
on_job_resp(struct backend *b, struct call *c, const struct http_resp *r)
{
	struct kjob *k = find(b, c->id);
	json_t *obj;
	char e[400];

	if (k == NULL)
		return;
	k->busy = 0;
	switch (c->what) {
	case KR_CREATE:
		on_create(b, k, r);
		break;
	case KR_PATCH:
	case KR_GET:
		if (r->status == 200) {
			k->fails = 0;
			if ((obj = json_loadb(r->body, r->len, 0, NULL)) !=
			    NULL)
				sync_job(b, obj);
			json_decref(obj);
			if (c->what == KR_PATCH)
				log_info("job %" PRId64 ": released in %s as "
				    "Job %s", k->id, b->site, k->name);
		} else if (r->status == 404) {
			gone(b, k, "the Job was deleted in Kubernetes");
		} else if (r->status == 409) {
			do_get(b, k);	/* changed meanwhile: read it again */
		} else {
			why(r, e, sizeof(e));
			log_warnx("job %" PRId64 ": %s Job %s: %s", k->id,
			    c->what == KR_PATCH ? "releasing" : "reading",
			    k->name, e);
			job_retry(b, k);
		}
		break;
	case KR_ENERGY:
		on_energy(b, k, r);
		break;
	case KR_DELETE:
		if (r->status == 200 || r->status == 202 || r->status == 404) {
			if (k->exists || r->status != 404)
				gone(b, k, "deleted");
			else
				cancelled_early(b, k);
		} else {
			why(r, e, sizeof(e));
			log_warnx("job %" PRId64 ": deleting Job %s: %s",
			    k->id, k->name, e);
			job_retry(b, k);
		}
		break;
	default:
		break;
	}
}

static void
on_resp(void *arg, const struct http_resp *r)
{
	struct call *c = arg;
	struct backend *b = c->b;

	call_unlink(b, c);
	switch (c->what) {
	case KR_LIST:
		on_list(b, c, r);
		break;
	case KR_WATCH:
		on_watch_end(b, r);
		break;
	default:
		on_job_resp(b, c, r);
		break;
	}
	free(c);
	kick(b);
}

/*---- the loop's part ----*/

static void
work(struct backend *b)
{
	double now = ev_now(b->loop);
	int64_t wall = ebb_now();

	if (!b->listing && b->watching == 0) {
		if (!b->listed_gen_ok) {
			if (now >= b->list_at)
				start_list(b);
		} else if (now >= b->watch_at)
			start_watch(b);
	}
	if (!b->listed)
		return;
	for (struct kjob *k = b->jobs, *next; k != NULL; k = next) {
		next = k->next;
		if (k->busy || now < k->retry_at)
			continue;
		if (!k->done && !k->cancel && k->exists && !k->suspended &&
		    !k->ready_seen && k->released_at > 0 &&
		    b->start_timeout > 0 && now - k->released_at >
		    b->start_timeout) {
			/* Its pod never ran (an image that does not pull, a
			 * pod that never fits): it would hold its cpus for
			 * ever. */
			k->fail_why = xasprintf("no pod of Job %s was ready "
			    "%.0f s after its release (an image that does not "
			    "pull, or a pod that cannot be scheduled or "
			    "admitted): deleted", k->name, b->start_timeout);
			log_warnx("job %" PRId64 ": %s", k->id, k->fail_why);
			k->cancel = 1;
		}
		if (k->cancel && k->fin != NULL) {
			emit(b, k->id, k->fin);	/* it had ended: say so */
			k->fin = NULL;
		}
		if (k->cancel && k->done) {
			if (!k->exists)
				drop(b, k);	/* else its TTL removes it */
		} else if (k->cancel) {
			if (k->exists || k->unsure)
				do_delete(b, k);
			else {
				cancelled_early(b, k);
				drop(b, k);
			}
		} else if (k->fin != NULL) {
			if (now >= k->energy_at)
				do_energy(b, k);
		} else if (k->done) {
			/* Kept while the Job is there (ttlSecondsAfter-
			 * Finished removes it), so it is not a stray. */
			if (!k->exists && !k->unsure)
				drop(b, k);
		} else if (!k->exists && k->adopted)
			do_get(b, k);	/* it is there: read how it is */
		else if (!k->exists && !k->unsure && !k->handed_sent)
			do_create(b, k);
		else if (k->exists && k->suspended && k->want <= wall)
			do_release(b, k);
	}
}

static void
tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	work(w->data);
}

static void
kick(struct backend *b)
{
	ev_feed_event(b->loop, &b->tick, EV_TIMER);
}

static void
token_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct backend *b = w->data;
	char err[256];

	if (kube_creds_refresh(&b->creds, err, sizeof(err)) == -1)
		log_warnx("site %s: %s", b->site, err);
}

/*---- ops ----*/

/* A DNS-1123 label: what a namespace must be (it goes into URLs). */
static int
dns_label(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 63 && s[strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-")] == '\0' && s[0] != '-' && s[n - 1] != '-';
}

/*
 * This ebbd's name in its clusters: 16 random hex digits made once and
 * kept in <state_dir>/kube-instance, so that two ebbds (every root ebbd
 * has the same state_dir path) never take each other's Jobs for theirs.
 */
static int
instance_id(const char *state_dir, char out[17], char *err, size_t errlen)
{
	char *path = xasprintf("%s/kube-instance", state_dir), *buf = NULL;
	unsigned char r[8];
	size_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		if (fs_read_fd(fd, 64, &buf, &n, err, errlen) == 0) {
			if (n >= 16 && strspn(buf, "0123456789abcdef") >= 16) {
				memcpy(out, buf, 16);
				out[16] = '\0';
				rc = 0;
			} else
				snprintf(err, errlen, "%s: not 16 hex digits "
				    "(remove it only if no Job of this ebbd is "
				    "left)", path);
		}
		free(buf);
		close(fd);
		goto out;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	if (fs_write_atomic(path, out, 16, 0600, err, errlen) == 0)
		rc = 0;
out:
	free(path);
	return rc;
}

static struct backend *
kube_open(struct ev_loop *loop, const struct backend_conf *bc,
    backend_event_cb cb, void *cbarg, char *err, size_t errlen)
{
	const struct ebb_kube *kc = bc->kube;
	struct backend *b;
	char inst[17];

	if (kc == NULL) {
		snprintf(err, errlen, "site %s: no kubernetes settings",
		    bc->site);
		return NULL;
	}
	if (instance_id(bc->state_dir, inst, err, errlen) == -1)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	if (kube_creds_load(kc, &b->creds, err, errlen) == -1) {
		free(b);
		return NULL;
	}
	b->ns = xstrdup(kc->namespace ? kc->namespace : b->creds.namespace ?
	    b->creds.namespace : "default");
	if (!dns_label(b->ns)) {
		snprintf(err, errlen, "site %s: namespace '%.64s' (from the "
		    "credentials) is not a DNS-1123 label", bc->site, b->ns);
		goto fail;
	}
	if (kc->prometheus != NULL && strncmp(kc->prometheus, "http://", 7)
	    != 0 && strncmp(kc->prometheus, "https://", 8) != 0) {
		snprintf(err, errlen, "site %s: prometheus must be an http:// "
		    "or https:// URL", bc->site);
		goto fail;
	}
	if ((b->http = http_new(loop, err, errlen)) == NULL)
		goto fail;
	b->loop = loop;
	b->site = xstrdup(bc->site);
	b->instance = xstrdup(inst);
	b->resync = (double)kc->resync;
	b->adopt = kc->adopt;
	if (kc->prometheus != NULL) {
		b->prom = xstrdup(kc->prometheus);
		while (b->prom[0] != '\0' && b->prom[strlen(b->prom) - 1] ==
		    '/')
			b->prom[strlen(b->prom) - 1] = '\0';
	}
	b->prom_lag = (double)kc->prometheus_lag;
	b->start_timeout = (double)kc->start_timeout;
	b->refused = json_object();
	if (kc->node_selector.n > 0) {
		b->node_selector = json_object();
		for (size_t i = 0; i < kc->node_selector.n; i++)
			json_object_set_new(b->node_selector,
			    kc->node_selector.keys[i],
			    json_string(kc->node_selector.values[i]));
	}
	b->rv = xstrdup("0");
	b->state = "starting";
	b->since = ebb_now();
	backend_evq_init(&b->q, loop, cb, cbarg);
	ev_timer_init(&b->tick, tick_cb, 0., TICK);
	b->tick.data = b;
	ev_timer_start(loop, &b->tick);
	ev_timer_init(&b->token, token_cb, TOKEN_REFRESH, TOKEN_REFRESH);
	b->token.data = b;
	if (b->creds.token_file != NULL)
		ev_timer_start(loop, &b->token);
	log_info("site %s: Kubernetes API %s, namespace %s, instance %s",
	    b->site, b->creds.server, b->ns, b->instance);
	return b;
fail:
	kube_creds_clear(&b->creds);
	free(b->ns);
	free(b);
	return NULL;
}

static void
kube_close(struct backend *b)
{
	struct kjob *k;
	struct call *c;

	if (b == NULL)
		return;
	ev_timer_stop(b->loop, &b->tick);
	ev_timer_stop(b->loop, &b->token);
	http_free(b->http);
	while ((c = b->calls) != NULL) {
		b->calls = c->next;
		free(c);
	}
	while ((k = b->jobs) != NULL) {
		b->jobs = k->next;
		kjob_free(k);
	}
	backend_evq_clear(&b->q);
	kube_creds_clear(&b->creds);
	json_decref(b->node_selector);
	json_decref(b->refused);
	strbuf_free(&b->line);
	free(b->site);
	free(b->instance);
	free(b->ns);
	free(b->prom);
	free(b->list_rv);
	free(b->rv);
	free(b->error);
	free(b);
}

static int
kube_place(struct backend *b, const json_t *spec, int64_t start, char *err,
    size_t errlen)
{
	json_int_t id = json_integer_value(json_object_get(spec, "job_id"));
	const char *image = json_string_value(json_object_get(spec, "image"));
	struct kjob *k;
	int adopted;

	if (id <= 0 || (json_is_true(json_object_get(spec, "adopted")) &&
	    !json_is_string(json_object_get(spec, "ext_id")))) {
		snprintf(err, errlen, "spec without job_id");
		return -1;
	}
	if ((k = find(b, id)) != NULL) {
		if (k->want != start)
			log_debug("job %" PRId64 ": release in %s moved",
			    (int64_t)id, b->site);
		k->want = start;	/* re-planned: only the time moves */
		kick(b);
		return 0;
	}
	adopted = json_is_true(json_object_get(spec, "adopted"));
	if (!adopted && json_integer_value(json_object_get(spec, "uid")) ==
	    0) {
		snprintf(err, errlen, "site %s: pods never run as root "
		    "(runAsNonRoot): submit as an ordinary user", b->site);
		return -1;
	}
	if (!adopted && (image == NULL || *image == '\0')) {
		snprintf(err, errlen, "site %s runs containers: submit the "
		    "job with --image", b->site);
		return -1;
	}
	k = xcalloc(1, sizeof(*k));
	k->id = id;
	k->adopted = adopted;
	k->name = adopted ? xstrdup(json_string_value(json_object_get(spec,
	    "ext_id"))) : xasprintf("ebb-%s-%" PRId64, b->instance,
	    (int64_t)id);
	k->spec = json_deep_copy(spec);
	k->want = start;
	/* After an ebbd restart the LIST finds it if it is there. */
	k->handed_sent = json_object_get(spec, "ext_id") != NULL;
	if (json_is_true(json_object_get(spec, "running")))
		k->started_sent = 1;
	k->next = b->jobs;
	b->jobs = k;
	kick(b);
	return 0;
}

static int
kube_cancel(struct backend *b, int64_t id, char *err, size_t errlen)
{
	struct kjob *k = find(b, id);

	if (k == NULL) {
		/* A stray: a Job of ours nobody placed. */
		k = xcalloc(1, sizeof(*k));
		k->id = id;
		k->name = xasprintf("ebb-%s-%" PRId64, b->instance, id);
		k->exists = 1;
		k->handed_sent = 1;
		k->next = b->jobs;
		b->jobs = k;
	}
	k->cancel = 1;
	kick(b);
	(void)err;
	(void)errlen;
	return 0;
}

static json_t *
kube_status(struct backend *b)
{
	size_t n = 0;

	for (struct kjob *k = b->jobs; k != NULL; k = k->next)
		n += k->exists;
	return json_pack("{s:s, s:I, s:s?, s:I}", "state", b->state, "since",
	    (json_int_t)b->since, "error", b->error, "jobs", (json_int_t)n);
}

const struct backend_ops backend_kube_ops = {
	.name = "kubernetes",
	.title = "Kubernetes",
	.foreign = { "kubectl", "(a Kubernetes Job)", "active-deadline" },
	.per_site = 1,
	.open = kube_open,
	.close = kube_close,
	.cancel = kube_cancel,
	.place = kube_place,
	.status = kube_status,
};
