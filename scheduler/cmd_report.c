/*
 * cmd_report: the "report" command: the emissions ledger of the jobs the
 * peer may see (their own; all for admins), one row per job with energy,
 * emissions, counterfactual and saving, and totals per signal of the rows
 * it returns. Without ids it answers in pages by job id (after, more), at
 * most REPORT_PAGE rows and PAGE_BYTES of them. Read-only: it reports what
 * the ledger holds and settles nothing.
 */
#include <stdint.h>
#include <string.h>

#include "common/job.h"
#include "common/proto.h"
#include "scheduler/daemon.h"
#include "scheduler/ledger.h"
#include "scheduler/store.h"
#include "scheduler/totals.h"

#define REPORT_PAGE	1000		/* rows a page holds at most ... */
#define PAGE_BYTES	(1u << 20)	/* ... and JSON bytes (one at least) */

struct report {
	struct store	*store;
	json_t		*rows;
	const char	*user, *site;	/* filters, or NULL */
	int64_t		 since, until;	/* 0: open */
	int64_t		 after;		/* rows of jobs after this id */
	size_t		 bytes;		/* JSON of the rows so far */
	int		 more;		/* the page is full */
	int		 failed;
	char		 err[256];
};

/* Whether j passes the filters: it ran during [since, until). */
static int
wanted(const struct report *r, const struct job *j)
{
	if (r->user != NULL && (j->user == NULL || strcmp(j->user,
	    r->user) != 0))
		return 0;
	if (r->site != NULL && (j->site == NULL || strcmp(j->site,
	    r->site) != 0))
		return 0;
	if (r->until > 0 && j->start_time >= r->until)
		return 0;
	if (r->since > 0 && j->end_time > 0 && j->end_time < r->since)
		return 0;
	return 1;
}

static int
add_cb(void *arg, const struct job *j)
{
	struct report *r = arg;
	json_t *row;
	size_t n;
	int rc;

	if (j->id <= r->after || !wanted(r, j))
		return 0;
	if (json_array_size(r->rows) == REPORT_PAGE) {
		r->more = 1;
		return 1;
	}
	if ((rc = ledger_job_json(r->store, j, &row, r->err,
	    sizeof(r->err))) == -1) {
		r->failed = 1;
		return 1;
	}
	if (rc == 0)
		return 0;
	n = json_dumpb(row, NULL, 0, JSON_COMPACT);
	if (json_array_size(r->rows) > 0 && r->bytes + n > PAGE_BYTES) {
		json_decref(row);
		r->more = 1;
		return 1;
	}
	r->bytes += n;
	json_array_append_new(r->rows, row);
	return 0;
}

static json_t *
usage(struct report *r, const char *msg)
{
	json_decref(r->rows);
	return proto_reply_err("usage", "%s", msg);
}

/* Reads an optional epoch-seconds argument; -1 if it is not one. */
static int
arg_time(const json_t *args, const char *key, int64_t *out)
{
	json_t *v = json_object_get(args, key);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

json_t *
cmd_report(struct ebbd *d, const struct peer *p, const json_t *args)
{
	struct store_filter f = { .uid = p->admin ? -1 : (int64_t)p->uid };
	struct report r = { .store = d->store, .rows = json_array() };
	const json_t *ids;
	json_t *v, *reply = NULL;
	size_t i;

	if (arg_time(args, "since", &r.since) == -1)
		return usage(&r, "since: must be epoch seconds");
	if (arg_time(args, "until", &r.until) == -1)
		return usage(&r, "until: must be epoch seconds");
	if (arg_time(args, "after", &r.after) == -1)
		return usage(&r, "after: must be a job id");
	v = json_object_get(args, "user");
	if (v != NULL && (r.user = json_string_value(v)) == NULL)
		return usage(&r, "user: must be a string");
	v = json_object_get(args, "site");
	if (v != NULL && (r.site = json_string_value(v)) == NULL)
		return usage(&r, "site: must be a string");
	if (cmd_arg_ids(args, 0, &ids, &reply) == -1) {
		json_decref(r.rows);
		return reply;
	}

	if (json_array_size(ids) > 0) {
		json_array_foreach(ids, i, v) {
			struct job *j = cmd_job_for_peer(d, p,
			    json_integer_value(v), &reply);

			if (j == NULL) {
				json_decref(r.rows);
				return reply;
			}
			add_cb(&r, j);
			job_free(j);
			if (r.failed)
				break;
		}
	} else if (store_jobs_foreach(d->store, &f, add_cb, &r) == -1) {
		json_decref(r.rows);
		return proto_reply_err("failed", "%s", store_errmsg(d->store));
	}
	if (r.failed) {
		json_decref(r.rows);
		return proto_reply_err("failed", "%s", r.err);
	}
	return proto_reply_ok(json_pack("{s:o, s:o, s:b}", "totals",
	    totals_of(r.rows), "jobs", r.rows, "more", r.more));
}
