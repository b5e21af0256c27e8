/*
 * cmd_queue: the commands that look at jobs: `ebb queue` (a table) and
 * `ebb show` (one job in full, with its history).
 *
 * queue_print() and show_print() turn the daemon's replies into text and
 * do nothing else, so tests can feed them canned replies. Times are shown
 * in ISO-8601 UTC, durations and sizes in ebb's units (common/timefmt.h),
 * missing values as "-".
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/job.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "scheduler/cli/cli.h"

#define NCOLS	10

static int
is_final(const json_t *job)
{
	int st = job_state_parse(cli_get_str(job, "state"));

	return st >= 0 && job_state_final((enum job_state)st);
}

/* The START column: the planned start until it runs, then the start. */
static int64_t
start_of(const json_t *job)
{
	if (strcmp(cli_get_str(job, "state"), "planned") == 0 ||
	    strcmp(cli_get_str(job, "state"), "queued") == 0)
		return cli_get_int(job, "planned_start", 0);
	return cli_get_int(job, "start_time", 0);
}

/* The END/EXIT column: "TIME exit N" or "TIME signal N" once ended. */
static char *
fmt_end(const json_t *job, char *buf, size_t len)
{
	char t[32];
	int64_t end = cli_get_int(job, "end_time", 0);
	int64_t code = cli_get_int(job, "exit_code", -1);
	int64_t sig = cli_get_int(job, "signal", 0);

	if (!is_final(job) || end <= 0)
		snprintf(buf, len, "-");
	else if (sig > 0)
		snprintf(buf, len, "%s signal %" PRId64,
		    cli_fmt_when(end, t, sizeof(t)), sig);
	else if (code >= 0)
		snprintf(buf, len, "%s exit %" PRId64,
		    cli_fmt_when(end, t, sizeof(t)), code);
	else
		cli_fmt_when(end, buf, len);
	return buf;
}

static void
row_cells(const json_t *job, char *cells[NCOLS])
{
	char buf[64];

	cells[0] = xasprintf("%" PRId64, cli_get_int(job, "id", 0));
	cells[1] = xstrdup(cli_get_str(job, "name"));
	cells[2] = xstrdup(cli_get_str(job, "user"));
	cells[3] = xstrdup(cli_get_str(job, "state"));
	cells[4] = xstrdup(cli_get_str(job, "wait_reason"));
	cells[5] = xstrdup(cli_get_str(job, "site"));
	cells[6] = xasprintf("%" PRId64, cli_get_int(job, "cpus", 0));
	cells[7] = xstrdup(cli_fmt_when(cli_get_int(job, "submit_time", 0), buf,
	    sizeof(buf)));
	cells[8] = xstrdup(cli_fmt_when(start_of(job), buf, sizeof(buf)));
	cells[9] = xstrdup(fmt_end(job, buf, sizeof(buf)));
}

static void
print_row(FILE *f, char *const cells[NCOLS], const size_t width[NCOLS])
{
	for (int i = 0; i < NCOLS; i++) {
		if (i == NCOLS - 1)
			fprintf(f, "%s\n", cells[i]);
		else if (i == 0 || i == 6)
			fprintf(f, "%*s  ", (int)width[i], cells[i]);
		else
			fprintf(f, "%-*s  ", (int)width[i], cells[i]);
	}
}

void
queue_print(FILE *f, const json_t *jobs)
{
	static char *const head[NCOLS] = {
		"ID", "NAME", "USER", "STATE", "REASON", "SITE", "CPUS",
		"SUBMITTED",
		"START", "END/EXIT",
	};
	size_t n = json_array_size(jobs), width[NCOLS];
	char *(*cells)[NCOLS] = xcalloc(n ? n : 1, sizeof(*cells));

	for (int i = 0; i < NCOLS; i++)
		width[i] = strlen(head[i]);
	for (size_t r = 0; r < n; r++) {
		row_cells(json_array_get(jobs, r), cells[r]);
		for (int i = 0; i < NCOLS; i++)
			if (strlen(cells[r][i]) > width[i])
				width[i] = strlen(cells[r][i]);
	}
	print_row(f, head, width);
	for (size_t r = 0; r < n; r++) {
		print_row(f, cells[r], width);
		for (int i = 0; i < NCOLS; i++)
			free(cells[r][i]);
	}
	free(cells);
}

#define KEYW	15

/* Writes "key:" padded to the value column. */
static void
key_col(FILE *f, const char *key)
{
	size_t n = strlen(key) + 1;

	fprintf(f, "%s:%*s", key, n < KEYW ? (int)(KEYW - n) : 1, "");
}

static void
kv(FILE *f, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
kv(FILE *f, const char *key, const char *fmt, ...)
{
	va_list ap;

	key_col(f, key);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* Writes s as a shell word: bare when safe, else in single quotes. */
static void
shell_word(FILE *f, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+@%-";

	if (*s != '\0' && s[strspn(s, safe)] == '\0') {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s != '\0'; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

static void
print_list(FILE *f, const char *key, const json_t *list, int shell,
    const char *empty)
{
	size_t i;
	json_t *e;

	key_col(f, key);
	if (json_array_size(list) == 0)
		fputs(empty, f);
	json_array_foreach(list, i, e) {
		if (i > 0)
			fputs(shell ? " " : ", ", f);
		if (shell)
			shell_word(f, json_string_value(e) ?
			    json_string_value(e) : "");
		else
			fputs(json_string_value(e) ? json_string_value(e) :
			    "?", f);
	}
	fputc('\n', f);
}

/* "none"/"unknown" for the 0 or -1 markers, else the formatted value. */
static void
kv_dur(FILE *f, const char *key, int64_t v, const char *none)
{
	char buf[32];

	kv(f, key, "%s", v > 0 ? ebb_fmt_duration(v, buf, sizeof(buf)) : none);
}

/* The size when at least lo, else `none`. */
static void
kv_size(FILE *f, const char *key, int64_t v, int64_t lo, const char *none)
{
	char buf[32];

	kv(f, key, "%s", v >= lo ? ebb_fmt_size(v, buf, sizeof(buf)) : none);
}

static void
kv_time(FILE *f, const char *key, int64_t v, const char *none)
{
	char buf[32];

	kv(f, key, "%s", v > 0 ? cli_fmt_when(v, buf, sizeof(buf)) : none);
}

static void
show_job(FILE *f, const json_t *job)
{
	static const char *const shown[] = {
		"id", "name", "user", "uid", "gid", "state", "reason", "argv",
		"workdir", "env", "cpus", "gpus", "mem", "duration", "deadline",
		"max_delay", "begin", "sites", "interruptible", "policy",
		"submit_time",
		"planned_start", "site", "start_time", "end_time", "exit_code",
		"signal", "cpu_usec", "peak_mem", "measure", "tags", "power_w",
		"data_gb", "policy_applied", "duration_source", "plan_why",
		"expected_g", "now_g", "alt_site", "alt_start", "alt_g",
		"ext_id", "adopted", "held", "start_now", "wait_reason",
	};
	int64_t v;
	const char *key, *m;
	json_t *val;
	char *dump;
	int w;

	kv(f, "id", "%" PRId64, cli_get_int(job, "id", 0));
	kv(f, "name", "%s", cli_get_str(job, "name"));
	kv(f, "user", "%s (uid %" PRId64 ", gid %" PRId64 ")",
	    cli_get_str(job, "user"), cli_get_int(job, "uid", -1),
	    cli_get_int(job, "gid", -1));
	kv(f, "state", "%s%s", cli_get_str(job, "state"),
	    json_is_true(json_object_get(job, "held")) ? " (held)" : "");
	kv(f, "reason", "%s", cli_get_str(job, "reason"));
	if ((w = job_wait_parse(cli_get_str(job, "wait_reason"))) > 0)
		kv(f, "waits", "%s: %s", job_wait_name((enum job_wait)w),
		    job_wait_text((enum job_wait)w));
	print_list(f, "argv", json_object_get(job, "argv"), 1, "-");
	kv(f, "workdir", "%s", cli_get_str(job, "workdir"));
	kv(f, "env", "%zu variables", json_array_size(json_object_get(job,
	    "env")));
	kv(f, "cpus", "%" PRId64, cli_get_int(job, "cpus", 0));
	if (cli_get_int(job, "gpus", 0) > 0)
		kv(f, "gpus", "%" PRId64, cli_get_int(job, "gpus", 0));
	kv_size(f, "mem", cli_get_int(job, "mem", 0), 1, "none");
	kv_dur(f, "duration", cli_get_int(job, "duration", 0), "unknown");
	kv_time(f, "deadline", cli_get_int(job, "deadline", 0), "none");
	kv_dur(f, "max_delay", cli_get_int(job, "max_delay", 0), "none");
	kv_time(f, "begin", cli_get_int(job, "begin", 0), "none");
	print_list(f, "sites", json_object_get(job, "sites"), 0, "any");
	kv(f, "interruptible", "%s", json_is_true(json_object_get(job,
	    "interruptible")) ? "yes" : "no");
	kv(f, "policy", "%s", cli_get_str(job, "policy"));
	kv_time(f, "submit_time", cli_get_int(job, "submit_time", 0), "-");
	kv_time(f, "planned_start", cli_get_int(job, "planned_start", 0), "-");
	kv(f, "site", "%s", cli_get_str(job, "site"));
	if (json_is_string(json_object_get(job, "ext_id")))
		kv(f, "ext_id", "%s (its id in the site's scheduler%s)",
		    cli_get_str(job, "ext_id"), json_is_true(json_object_get(job,
		    "adopted")) ? "; submitted there and adopted" : "");
	kv_time(f, "start_time", cli_get_int(job, "start_time", 0), "-");
	kv_time(f, "end_time", cli_get_int(job, "end_time", 0), "-");
	if ((v = cli_get_int(job, "exit_code", -1)) >= 0)
		kv(f, "exit_code", "%" PRId64, v);
	else
		kv(f, "exit_code", "-");
	if ((v = cli_get_int(job, "signal", 0)) > 0)
		kv(f, "signal", "%" PRId64, v);
	else
		kv(f, "signal", "-");
	if ((v = cli_get_int(job, "cpu_usec", -1)) >= 0)
		kv(f, "cpu_time", "%" PRId64 ".%03" PRId64 " s", v / 1000000,
		    v % 1000000 / 1000);
	else
		kv(f, "cpu_time", "unknown");
	kv_size(f, "peak_mem", cli_get_int(job, "peak_mem", -1), 0, "unknown");
	m = cli_get_str(job, "measure");
	if (strcmp(m, "rusage") == 0)
		kv(f, "measure", "rusage (measured by process accounting "
		    "because no cgroup could be made)");
	else
		kv(f, "measure", "%s", m);
	print_list(f, "tags", json_object_get(job, "tags"), 0, "-");
	if (json_number_value(json_object_get(job, "power_w")) > 0)
		kv(f, "power", "%.1f W", json_number_value(
		    json_object_get(job, "power_w")));
	else
		kv(f, "power", "estimated from cpus");
	if (json_number_value(json_object_get(job, "data_gb")) > 0)
		kv(f, "data", "%.1f GB", json_number_value(
		    json_object_get(job, "data_gb")));
	kv(f, "estimate_from", "%s", cli_get_str(job, "duration_source"));
	kv(f, "policy_applied", "%s", cli_get_str(job, "policy_applied"));
	if (json_is_true(json_object_get(job, "start_now")))
		kv(f, "plan", "started at once on its user's request (ebb "
		    "start-now), carbon ignored: no saving is claimed");
	else if (json_string_value(json_object_get(job, "plan_why")) != NULL) {
		double e = json_number_value(json_object_get(job,
		    "expected_g")), n = json_number_value(json_object_get(job,
		    "now_g"));
		char t[32];

		kv(f, "plan", "%s", cli_get_str(job, "plan_why"));
		kv(f, "expected", "%.3g gCO2e (starting now at its first "
		    "site: %.3g g, saving %.3g g, %.1f%%)", e, n, n - e,
		    n > 0 ? 100 * (n - e) / n : 0.0);
		if (json_string_value(json_object_get(job, "alt_site")))
			kv(f, "next_best", "%s at %s: %.3g g",
			    cli_get_str(job, "alt_site"), cli_fmt_when(
			    cli_get_int(job, "alt_start", 0), t, sizeof(t)),
			    json_number_value(json_object_get(job, "alt_g")));
	}
	json_object_foreach((json_t *)job, key, val) {
		size_t i;

		for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
			if (strcmp(key, shown[i]) == 0)
				break;
		if (i < sizeof(shown) / sizeof(shown[0]))
			continue;
		dump = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
		kv(f, key, "%s", dump ? dump : "-");
		free(dump);
	}
}

void
show_print(FILE *f, const json_t *result)
{
	const json_t *ev;
	char t[32];
	size_t i;

	show_job(f, json_object_get(result, "job"));
	fprintf(f, "events:\n");
	json_array_foreach(json_object_get(result, "events"), i, ev)
		fprintf(f, "  %s  %s -> %s  %s\n",
		    cli_fmt_when(cli_get_int(ev, "time", 0), t, sizeof(t)),
		    cli_get_str(ev, "from"), cli_get_str(ev, "to"),
		    cli_get_str(ev, "reason"));
}

int
cmd_queue(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, all = 0, json = 0, rc, more;
	json_t *result, *jobs;
	int64_t after = 0;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":ah", opts)) != -1) {
		if (ch == 'a')
			all = 1;
		else if (ch == 'j')
			json = 1;
		else if (ch == 'h')
			return cli_help(c);
		else
			return CLI_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(c, "unexpected argument '%s'",
		    argv[optind]);
	/* ebbd answers in pages; ask for the next one after the last id. */
	jobs = json_array();
	do {
		json_t *page;

		if ((rc = cli_call(c, "queue", json_pack("{s:b, s:I}", "all",
		    all, "after", (json_int_t)after), &result)) != CLI_OK) {
			json_decref(jobs);
			return rc;
		}
		page = json_object_get(result, "jobs");
		if (!json_is_array(page) || (json_array_size(page) == 0 &&
		    json_is_true(json_object_get(result, "more")))) {
			json_decref(result);
			json_decref(jobs);
			return cli_fail(c, "malformed reply from ebbd: no jobs");
		}
		json_array_extend(jobs, page);
		more = json_is_true(json_object_get(result, "more"));
		after = cli_get_int(json_array_get(page,
		    json_array_size(page) - 1), "id", after);
		json_decref(result);
	} while (more);
	if (json)
		cli_print_json(c, jobs);
	else
		queue_print(c->out, jobs);
	json_decref(jobs);
	return CLI_OK;
}

int
cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, json = 0, rc;
	json_t *result;
	int64_t id;

	optind = 0;
	while ((ch = cli_getopt(c, argc, argv, ":h", opts)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'h')
			return cli_help(c);
		else
			return CLI_USAGE;
	}
	if (argc - optind != 1)
		return cli_usage_error(c, "give one job id (ebb show JOB)");
	if (cli_parse_id(c, argv[optind], &id) == -1)
		return CLI_USAGE;
	if ((rc = cli_call(c, "show", json_pack("{s:I}", "id", (json_int_t)id),
	    &result)) != CLI_OK)
		return rc;
	if (!json_is_object(json_object_get(result, "job"))) {
		json_decref(result);
		return cli_fail(c, "malformed reply from ebbd: no job");
	}
	if (json)
		cli_print_json(c, result);
	else
		show_print(c->out, result);
	json_decref(result);
	return CLI_OK;
}
