/*
 * job: job records, their states, their JSON form and submit validation.
 * Knows nothing of sqlite or sockets; the store and the control server
 * translate to and from this struct.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"

static const char *const state_names[JOB_NSTATES] = {
	"queued", "planned", "running", "succeeded", "failed", "cancelled",
};

const char *
job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_NSTATES ? state_names[s] : "unknown";
}

int
job_state_parse(const char *s)
{
	for (int i = 0; i < JOB_NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

static const struct {
	const char	*name, *text;
} waits[JOB_NWAITS] = {
	[JOB_WAIT_NONE] = { "-", "nothing: it runs as planned, or it ended" },
	[JOB_WAIT_PLANNING] = { "planning", "submitted; the next planning "
	    "pass places it" },
	[JOB_WAIT_HELD] = { "held", "held (ebb hold): never started or "
	    "planned until released (ebb release)" },
	[JOB_WAIT_GREEN] = { "green-window", "waits for a cleaner window: "
	    "starting later emits less" },
	[JOB_WAIT_ROOM] = { "room", "waits for room: it would start now, "
	    "but its sites' cpus or memory are taken" },
	[JOB_WAIT_NO_DATA] = { "no-data", "no carbon intensity known for "
	    "its sites: waiting gains nothing, it starts as early as room "
	    "allows" },
	[JOB_WAIT_DEADLINE] = { "deadline", "cannot meet its deadline: it "
	    "starts as early as it can" },
	[JOB_WAIT_DUE] = { "due", "due now: starting" },
	[JOB_WAIT_CLUSTER] = { "in-cluster", "in its site's own scheduler "
	    "(Slurm, Kubernetes), which starts it" },
	[JOB_WAIT_PAUSED] = { "paused", "frozen outside its planned "
	    "low-carbon slots (interruptible)" },
	[JOB_WAIT_CANCELLING] = { "cancelling", "a cancel was asked for: "
	    "stopping" },
	[JOB_WAIT_START_NOW] = { "start-now", "started at once on its "
	    "user's request (ebb start-now), carbon ignored: no saving is "
	    "claimed" },
};

const char *
job_wait_name(enum job_wait w)
{
	return (unsigned)w < JOB_NWAITS ? waits[w].name : "-";
}

int
job_wait_parse(const char *s)
{
	for (int i = 0; i < JOB_NWAITS; i++)
		if (strcmp(s, waits[i].name) == 0)
			return i;
	return -1;
}

const char *
job_wait_text(enum job_wait w)
{
	return (unsigned)w < JOB_NWAITS ? waits[w].text : "";
}

int
job_state_final(enum job_state s)
{
	return s == JOB_SUCCEEDED || s == JOB_FAILED || s == JOB_CANCELLED;
}

struct job *
job_new(void)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->cpus = 1;
	j->exit_code = -1;
	j->cpu_usec = -1;
	j->peak_mem = -1;
	return j;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->name);
	free(j->user);
	json_decref(j->argv);
	json_decref(j->env);
	free(j->workdir);
	json_decref(j->sites);
	free(j->policy);
	json_decref(j->tags);
	json_decref(j->groups);
	free(j->image);
	free(j->stdout_file);
	free(j->stderr_file);
	free(j->policy_applied);
	free(j->duration_source);
	free(j->plan_why);
	free(j->alt_site);
	free(j->site);
	free(j->measure);
	free(j->reason);
	free(j->ext_id);
	free(j);
}

/* An array of strings (each passing `ok`, if given). */
static int
string_array(const json_t *v, const char *field, int need_eq, size_t max,
    char *err, size_t errlen)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v)) {
		snprintf(err, errlen, "%s: must be a list of strings", field);
		return -1;
	}
	if (json_array_size(v) > max) {
		snprintf(err, errlen, "%s: more than %zu entries", field, max);
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			snprintf(err, errlen, "%s[%zu]: must be a string",
			    field, i);
			return -1;
		}
		if (need_eq && strchr(json_string_value(e), '=') == NULL) {
			snprintf(err, errlen, "%s[%zu]: '%s' is not "
			    "KEY=VALUE", field, i, json_string_value(e));
			return -1;
		}
	}
	return 0;
}

static int
get_int(const json_t *req, const char *field, int64_t min, int64_t max,
    int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(req, field);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "%s: must be an integer", field);
		return -1;
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, errlen, "%s: %" PRId64 " is out of range [%"
		    PRId64 ", %" PRId64 "]", field,
		    (int64_t)json_integer_value(v), min, max);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A non-negative number up to max (integers accepted). */
static int
get_real(const json_t *req, const char *field, double max, double *out,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(req, field);

	if (v == NULL)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < 0 ||
	    json_number_value(v) > max) {
		snprintf(err, errlen, "%s: must be a number from 0 to %g", field,
		    max);
		return -1;
	}
	*out = json_number_value(v);
	return 0;
}

static int
get_str(const json_t *req, const char *field, size_t maxlen, char **out,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(req, field);

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: must be a string", field);
		return -1;
	}
	if (json_string_length(v) == 0 || json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "%s: must be 1 to %zu characters",
		    field, maxlen);
		return -1;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

int
job_check_limits(const struct job *j, int64_t now, char *err, size_t errlen)
{
	char t1[32], t2[32];

	if (j->deadline != 0 && j->max_delay != 0) {
		snprintf(err, errlen, "deadline: give a deadline or a max "
		    "delay, not both");
		return -1;
	}
	if (j->deadline != 0 && j->deadline <= now) {
		snprintf(err, errlen, "deadline: %s is in the past",
		    ebb_fmt_time(j->deadline, t1, sizeof(t1)));
		return -1;
	}
	if (j->deadline != 0 && now + j->duration > j->deadline) {
		snprintf(err, errlen, "deadline: %s is too soon for a "
		    "duration of %s", ebb_fmt_time(j->deadline, t1, sizeof(t1)),
		    ebb_fmt_duration(j->duration, t2, sizeof(t2)));
		return -1;
	}
	if (j->begin > now + JOB_BEGIN_MAX) {
		snprintf(err, errlen, "begin: %s is more than %s ahead",
		    ebb_fmt_time(j->begin, t1, sizeof(t1)),
		    ebb_fmt_duration(JOB_BEGIN_MAX, t2, sizeof(t2)));
		return -1;
	}
	if (j->begin != 0 && j->deadline != 0 &&
	    j->begin > j->deadline - (j->duration > 0 ? j->duration : 1)) {
		snprintf(err, errlen, "begin: %s is after the latest start "
		    "the deadline %s allows", ebb_fmt_time(j->begin, t1,
		    sizeof(t1)), ebb_fmt_time(j->deadline, t2, sizeof(t2)));
		if (j->duration > 0)
			snprintf(err + strlen(err), errlen - strlen(err),
			    " for a duration of %s", ebb_fmt_duration(
			    j->duration, t1, sizeof(t1)));
		return -1;
	}
	return 0;
}

struct job *
job_from_submit(const json_t *req, int64_t now, char *err, size_t errlen)
{
	static const char *const known[] = {
		"name", "argv", "env", "workdir", "cpus", "mem", "duration",
		"deadline", "max_delay", "sites", "interruptible", "policy",
		"tags", "power_w", "data_gb", "image", "stdout_file",
		"stderr_file", "begin", "gpus",
	};
	struct job *j = job_new();
	const char *key;
	json_t *v;
	int64_t n;

	if (!json_is_object(req)) {
		snprintf(err, errlen, "job: must be an object");
		goto fail;
	}
	json_object_foreach((json_t *)req, key, v) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "unknown field '%s'", key);
			goto fail;
		}
	}
	if ((v = json_object_get(req, "argv")) == NULL) {
		snprintf(err, errlen, "argv: a command is required");
		goto fail;
	}
	if (string_array(v, "argv", 0, 65536, err, errlen) == -1)
		goto fail;
	if (json_array_size(v) == 0 ||
	    json_string_length(json_array_get(v, 0)) == 0) {
		snprintf(err, errlen, "argv: a command is required");
		goto fail;
	}
	j->argv = json_deep_copy(v);
	if ((v = json_object_get(req, "env")) != NULL) {
		if (string_array(v, "env", 1, 65536, err, errlen) == -1)
			goto fail;
		j->env = json_deep_copy(v);
	} else
		j->env = json_array();
	if ((v = json_object_get(req, "sites")) != NULL) {
		if (string_array(v, "sites", 0, 256, err, errlen) == -1)
			goto fail;
		j->sites = json_deep_copy(v);
	} else
		j->sites = json_array();
	if ((v = json_object_get(req, "tags")) != NULL) {
		if (string_array(v, "tags", 0, 64, err, errlen) == -1)
			goto fail;
		j->tags = json_deep_copy(v);
	} else
		j->tags = json_array();
	if (get_real(req, "power_w", 1e6, &j->power_w, err, errlen) == -1 ||
	    get_real(req, "data_gb", 1e9, &j->data_gb, err, errlen) == -1)
		goto fail;
	if (get_str(req, "workdir", 4096, &j->workdir, err, errlen) == -1)
		goto fail;
	if (j->workdir == NULL || j->workdir[0] != '/') {
		snprintf(err, errlen, "workdir: an absolute path is required");
		goto fail;
	}
	if (get_str(req, "image", JOB_IMAGE_MAX, &j->image, err, errlen) == -1)
		goto fail;
	if (j->image != NULL && (j->image[0] == '\0' || j->image[0] == '-' ||
	    j->image[strspn(j->image, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@")] != '\0')) {
		snprintf(err, errlen, "image: '%.64s' is not an image "
		    "reference (letters, digits and ._-/:@)", j->image);
		goto fail;
	}
	if (get_str(req, "stdout_file", 4096, &j->stdout_file, err, errlen) ==
	    -1 || get_str(req, "stderr_file", 4096, &j->stderr_file, err,
	    errlen) == -1)
		goto fail;
	if (j->image != NULL && (j->stdout_file != NULL ||
	    j->stderr_file != NULL)) {
		snprintf(err, errlen, "stdout_file: not for a container (its "
		    "output stays with Kubernetes: kubectl logs)");
		goto fail;
	}
	if (get_str(req, "name", JOB_NAME_MAX, &j->name, err, errlen) == -1 ||
	    get_str(req, "policy", JOB_NAME_MAX, &j->policy, err,
	    errlen) == -1)
		goto fail;
	if (j->name == NULL) {
		const char *a0 = json_string_value(json_array_get(j->argv, 0));
		const char *slash = strrchr(a0, '/');

		j->name = xstrndup(slash ? slash + 1 : a0, JOB_NAME_MAX);
	}
	n = 1;
	if (get_int(req, "cpus", 1, 4096, &n, err, errlen) == -1)
		goto fail;
	j->cpus = (int)n;
	n = 0;
	if (get_int(req, "gpus", 0, JOB_GPUS_MAX, &n, err, errlen) == -1)
		goto fail;
	j->gpus = (int)n;
	if (get_int(req, "mem", 0, INT64_MAX, &j->mem, err, errlen) == -1 ||
	    get_int(req, "duration", 0, INT64_C(100) * 365 * 86400,
	    &j->duration, err, errlen) == -1 ||
	    get_int(req, "max_delay", 0, INT64_C(100) * 365 * 86400,
	    &j->max_delay, err, errlen) == -1 ||
	    get_int(req, "deadline", 0, INT64_MAX / 2, &j->deadline, err,
	    errlen) == -1 ||
	    get_int(req, "begin", 0, INT64_MAX / 2, &j->begin, err,
	    errlen) == -1)
		goto fail;
	if ((v = json_object_get(req, "interruptible")) != NULL) {
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "interruptible: must be true or "
			    "false");
			goto fail;
		}
		j->interruptible = json_is_true(v);
	}
	/* A begin that has come (now, or a past time) is no later start. */
	if (j->begin <= now)
		j->begin = 0;
	if (job_check_limits(j, now, err, errlen) == -1)
		goto fail;
	j->state = JOB_QUEUED;
	j->submit_time = now;
	return j;
fail:
	job_free(j);
	return NULL;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

json_t *
job_to_json(const struct job *j)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(j->id));
	set_str(o, "name", j->name);
	set_str(o, "user", j->user);
	json_object_set_new(o, "uid", json_integer(j->uid));
	json_object_set_new(o, "gid", json_integer(j->gid));
	json_object_set(o, "argv", j->argv ? j->argv : json_array());
	json_object_set(o, "env", j->env ? j->env : json_array());
	set_str(o, "workdir", j->workdir);
	json_object_set_new(o, "cpus", json_integer(j->cpus));
	json_object_set_new(o, "gpus", json_integer(j->gpus));
	json_object_set_new(o, "mem", json_integer(j->mem));
	json_object_set_new(o, "duration", json_integer(j->duration));
	json_object_set_new(o, "deadline", json_integer(j->deadline));
	json_object_set_new(o, "max_delay", json_integer(j->max_delay));
	json_object_set_new(o, "begin", json_integer(j->begin));
	json_object_set(o, "sites", j->sites ? j->sites : json_array());
	json_object_set_new(o, "interruptible",
	    json_boolean(j->interruptible));
	set_str(o, "policy", j->policy);
	json_object_set(o, "tags", j->tags ? j->tags : json_array());
	json_object_set_new(o, "power_w", json_real(j->power_w));
	json_object_set_new(o, "data_gb", json_real(j->data_gb));
	set_str(o, "policy_applied", j->policy_applied);
	set_str(o, "duration_source", j->duration_source);
	set_str(o, "plan_why", j->plan_why);
	json_object_set_new(o, "expected_g", json_real(j->expected_g));
	json_object_set_new(o, "now_g", json_real(j->now_g));
	set_str(o, "alt_site", j->alt_site);
	json_object_set_new(o, "alt_start", json_integer(j->alt_start));
	json_object_set_new(o, "alt_g", json_real(j->alt_g));
	json_object_set_new(o, "state", json_string(job_state_name(j->state)));
	json_object_set_new(o, "submit_time", json_integer(j->submit_time));
	json_object_set_new(o, "planned_start",
	    json_integer(j->planned_start));
	set_str(o, "site", j->site);
	json_object_set_new(o, "start_time", json_integer(j->start_time));
	json_object_set_new(o, "end_time", json_integer(j->end_time));
	json_object_set_new(o, "exit_code", json_integer(j->exit_code));
	json_object_set_new(o, "signal", json_integer(j->signal));
	json_object_set_new(o, "cpu_usec", json_integer(j->cpu_usec));
	json_object_set_new(o, "peak_mem", json_integer(j->peak_mem));
	set_str(o, "measure", j->measure);
	set_str(o, "reason", j->reason);
	set_str(o, "ext_id", j->ext_id);
	if (j->adopted)
		json_object_set_new(o, "adopted", json_true());
	if (j->groups != NULL)
		json_object_set(o, "groups", j->groups);
	set_str(o, "image", j->image);
	set_str(o, "stdout_file", j->stdout_file);
	set_str(o, "stderr_file", j->stderr_file);
	json_object_set_new(o, "held", json_boolean(j->held));
	json_object_set_new(o, "start_now", json_boolean(j->start_now));
	return o;
}

static char *
dup_or_null(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? xstrdup(s) : NULL;
}

static int64_t
int_or(const json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

struct job *
job_from_json(const json_t *o, char *err, size_t errlen)
{
	struct job *j;
	const char *st;
	int s;

	if (!json_is_object(o) || !json_is_integer(json_object_get(o, "id")) ||
	    (st = json_string_value(json_object_get(o, "state"))) == NULL ||
	    (s = job_state_parse(st)) < 0) {
		snprintf(err, errlen, "malformed job record");
		return NULL;
	}
	j = job_new();
	j->id = int_or(o, "id", 0);
	j->name = dup_or_null(o, "name");
	j->user = dup_or_null(o, "user");
	j->uid = (uint32_t)int_or(o, "uid", 0);
	j->gid = (uint32_t)int_or(o, "gid", 0);
	j->argv = json_deep_copy(json_object_get(o, "argv"));
	j->env = json_deep_copy(json_object_get(o, "env"));
	j->workdir = dup_or_null(o, "workdir");
	j->cpus = (int)int_or(o, "cpus", 1);
	j->gpus = (int)int_or(o, "gpus", 0);
	j->mem = int_or(o, "mem", 0);
	j->duration = int_or(o, "duration", 0);
	j->deadline = int_or(o, "deadline", 0);
	j->max_delay = int_or(o, "max_delay", 0);
	j->begin = int_or(o, "begin", 0);
	j->sites = json_deep_copy(json_object_get(o, "sites"));
	j->interruptible = json_is_true(json_object_get(o, "interruptible"));
	j->policy = dup_or_null(o, "policy");
	j->tags = json_deep_copy(json_object_get(o, "tags"));
	j->power_w = json_number_value(json_object_get(o, "power_w"));
	j->data_gb = json_number_value(json_object_get(o, "data_gb"));
	j->policy_applied = dup_or_null(o, "policy_applied");
	j->duration_source = dup_or_null(o, "duration_source");
	j->plan_why = dup_or_null(o, "plan_why");
	j->expected_g = json_number_value(json_object_get(o, "expected_g"));
	j->now_g = json_number_value(json_object_get(o, "now_g"));
	j->alt_site = dup_or_null(o, "alt_site");
	j->alt_start = int_or(o, "alt_start", 0);
	j->alt_g = json_number_value(json_object_get(o, "alt_g"));
	j->state = (enum job_state)s;
	j->submit_time = int_or(o, "submit_time", 0);
	j->planned_start = int_or(o, "planned_start", 0);
	j->site = dup_or_null(o, "site");
	j->start_time = int_or(o, "start_time", 0);
	j->end_time = int_or(o, "end_time", 0);
	j->exit_code = (int)int_or(o, "exit_code", -1);
	j->signal = (int)int_or(o, "signal", 0);
	j->cpu_usec = int_or(o, "cpu_usec", -1);
	j->peak_mem = int_or(o, "peak_mem", -1);
	j->measure = dup_or_null(o, "measure");
	j->reason = dup_or_null(o, "reason");
	j->ext_id = dup_or_null(o, "ext_id");
	j->adopted = json_is_true(json_object_get(o, "adopted"));
	if (json_is_array(json_object_get(o, "groups")))
		j->groups = json_incref(json_object_get(o, "groups"));
	j->image = dup_or_null(o, "image");
	j->stdout_file = dup_or_null(o, "stdout_file");
	j->stderr_file = dup_or_null(o, "stderr_file");
	j->held = json_is_true(json_object_get(o, "held"));
	j->start_now = json_is_true(json_object_get(o, "start_now"));
	return j;
}

int64_t
job_earliest_start(const struct job *j)
{
	return j->begin > j->submit_time ? j->begin : j->submit_time;
}

int64_t
job_latest_start(const struct job *j)
{
	int64_t a = 0, b = 0;

	if (j->deadline != 0)
		a = j->deadline - j->duration;
	if (j->max_delay != 0)
		b = job_earliest_start(j) + j->max_delay;
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}
