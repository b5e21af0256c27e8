/*
 * store: sqlite persistence of jobs, their event history, carbon intensity
 * and the emissions ledger.
 *
 * Owns the database handle and its prepared statements. Writes open a
 * transaction lazily and stay in it until store_commit(), which the daemon
 * calls once per loop iteration before replying (group commit). It does not
 * decide anything about jobs; callers pass finished records.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/xmalloc.h"
#include "scheduler/store.h"

/* Migration N brings user_version from N to N + 1. */
static const char *const migrations[] = {
	"CREATE TABLE jobs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL, user TEXT, uid INTEGER NOT NULL,"
	"  gid INTEGER NOT NULL, argv TEXT NOT NULL, env TEXT NOT NULL,"
	"  workdir TEXT NOT NULL, cpus INTEGER NOT NULL, mem INTEGER NOT NULL,"
	"  duration INTEGER NOT NULL, deadline INTEGER NOT NULL,"
	"  max_delay INTEGER NOT NULL, sites TEXT NOT NULL,"
	"  interruptible INTEGER NOT NULL, policy TEXT,"
	"  state TEXT NOT NULL, submit_time INTEGER NOT NULL,"
	"  planned_start INTEGER NOT NULL DEFAULT 0, site TEXT,"
	"  start_time INTEGER NOT NULL DEFAULT 0,"
	"  end_time INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER NOT NULL DEFAULT -1,"
	"  signal INTEGER NOT NULL DEFAULT 0,"
	"  cpu_usec INTEGER NOT NULL DEFAULT -1,"
	"  peak_mem INTEGER NOT NULL DEFAULT -1, measure TEXT, reason TEXT);"
	"CREATE INDEX jobs_state ON jobs(state);"
	"CREATE TABLE events ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id), time INTEGER NOT NULL,"
	"  from_state TEXT, to_state TEXT NOT NULL, reason TEXT);"
	"CREATE INDEX events_job ON events(job_id);",

	/* 2: carbon-intensity history and provider status */
	"CREATE TABLE ci_points ("
	"  zone TEXT NOT NULL, signal INTEGER NOT NULL, t INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL, source TEXT NOT NULL,"
	"  vkey INTEGER NOT NULL,"	/* vintage for forecasts, 0 for actuals */
	"  vintage INTEGER NOT NULL, value REAL NOT NULL,"
	"  flags INTEGER NOT NULL,"
	"  PRIMARY KEY (zone, signal, t, kind, source, vkey)) WITHOUT ROWID;"
	"CREATE TABLE providers ("
	"  site TEXT NOT NULL, provider TEXT NOT NULL,"
	"  last_try INTEGER NOT NULL, last_ok INTEGER NOT NULL,"
	"  since INTEGER NOT NULL, failing INTEGER NOT NULL, reason TEXT,"
	"  failures INTEGER NOT NULL, rejected INTEGER NOT NULL,"
	"  PRIMARY KEY (site, provider));",

	/* 3: what policies and the planner decided, and job hints */
	"ALTER TABLE jobs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE jobs ADD COLUMN power_w REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN data_gb REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN policy_applied TEXT;"
	"ALTER TABLE jobs ADD COLUMN duration_source TEXT;"
	"ALTER TABLE jobs ADD COLUMN plan_why TEXT;"
	"ALTER TABLE jobs ADD COLUMN expected_g REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN now_g REAL NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN alt_site TEXT;"
	"ALTER TABLE jobs ADD COLUMN alt_start INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN alt_g REAL NOT NULL DEFAULT 0;"
	"CREATE INDEX jobs_user_name ON jobs(uid, name, state);",

	/* 4: the emissions ledger: measured energy by interval, and per job */
	"CREATE TABLE ledger_intervals ("
	"  job_id INTEGER NOT NULL REFERENCES jobs(id),"
	"  t0 INTEGER NOT NULL, t1 INTEGER NOT NULL,"
	"  energy_j REAL NOT NULL, method TEXT NOT NULL,"
	"  intensity REAL, kind TEXT, provider TEXT, signal TEXT,"
	"  vintage INTEGER NOT NULL DEFAULT 0, pue REAL, grams REAL,"
	"  PRIMARY KEY (job_id, t0)) WITHOUT ROWID;"
	"CREATE TABLE ledger_jobs ("
	"  job_id INTEGER PRIMARY KEY REFERENCES jobs(id),"
	"  energy_j REAL NOT NULL DEFAULT 0, grams REAL,"
	"  unknown_j REAL NOT NULL DEFAULT 0, counterfactual_g REAL,"
	"  status TEXT NOT NULL, method TEXT, signal TEXT, intensity REAL,"
	"  embodied_g REAL NOT NULL DEFAULT 0,"
	"  settled INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX ledger_jobs_status ON ledger_jobs(status);",

	/* 5: jobs that live in a cluster scheduler (Slurm) */
	"ALTER TABLE jobs ADD COLUMN ext_id TEXT;"
	"ALTER TABLE jobs ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX jobs_ext ON jobs(site, ext_id);",

	/* 6: the submitter's groups, as the job runs with them (NULL: older) */
	"ALTER TABLE jobs ADD COLUMN groups TEXT;",

	/* 7: a provider that asked to be left alone (Retry-After) until */
	"ALTER TABLE providers ADD COLUMN retry_at INTEGER NOT NULL DEFAULT 0;",

	/* 8: the container image of a job for a Kubernetes site */
	"ALTER TABLE jobs ADD COLUMN image TEXT;",

	/* 9: the jobs that ended lately, for their series at /metrics */
	"CREATE INDEX jobs_end ON jobs(end_time);",

	/* 10: job control: held (ebb hold), started at once (ebb start-now) */
	"ALTER TABLE jobs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN start_now INTEGER NOT NULL DEFAULT 0;",

	/* 11: the export of final ledger rows: the order in which rows became
	 * final (rows final before this migration in job order), how often
	 * each did, and the cursor of what an endpoint acknowledged */
	"ALTER TABLE ledger_jobs ADD COLUMN final_seq INTEGER;"
	"ALTER TABLE ledger_jobs ADD COLUMN revision INTEGER NOT NULL "
	"  DEFAULT 0;"
	"UPDATE ledger_jobs SET final_seq = job_id, revision = 1 "
	"  WHERE status = 'final';"
	"CREATE UNIQUE INDEX ledger_jobs_final_seq ON ledger_jobs(final_seq);"
	"CREATE TABLE export_state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1), instance TEXT NOT NULL,"
	"  sent_seq INTEGER NOT NULL DEFAULT 0,"
	"  sent_at INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO export_state (id, instance) "
	"  VALUES (1, lower(hex(randomblob(16))));",

	/* 12: where a job's output goes (ebb submit --output/--error) */
	"ALTER TABLE jobs ADD COLUMN stdout_file TEXT;"
	"ALTER TABLE jobs ADD COLUMN stderr_file TEXT;",

	/* 13: a job's earliest start (ebb submit --begin), 0: none, and the
	 * GPUs it needs */
	"ALTER TABLE jobs ADD COLUMN begin INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN gpus INTEGER NOT NULL DEFAULT 0;",
};

#define JOB_COLS "id, name, user, uid, gid, argv, env, workdir, cpus, mem, " \
	"duration, deadline, max_delay, sites, interruptible, policy, state, " \
	"submit_time, planned_start, site, start_time, end_time, exit_code, " \
	"signal, cpu_usec, peak_mem, measure, reason, tags, power_w, " \
	"data_gb, policy_applied, duration_source, plan_why, expected_g, " \
	"now_g, alt_site, alt_start, alt_g, ext_id, adopted, groups, image, " \
	"held, start_now, stdout_file, stderr_file, begin, gpus"

enum { ST_INSERT, ST_GET, ST_SAVE, ST_EVENT, ST_EVENTS, ST_BEGIN, ST_COMMIT,
	ST_ROLLBACK, ST_CI_PUT, ST_CI_GET, ST_PROV_PUT, ST_PROV_GET, ST_RUNS,
	ST_LI_ADD, ST_LJ_OPEN, ST_LI_GET, ST_LI_SET, ST_LJ_PUT, ST_LJ_GET,
	ST_LJ_PROV, ST_BY_EXT, ST_FINAL_AFTER, ST_FINAL_COUNT, ST_EXPORT_GET,
	ST_EXPORT_SET, ST_N };

static const char *const stmt_sql[ST_N] = {
	[ST_INSERT] = "INSERT INTO jobs (name, user, uid, gid, argv, env, "
	    "workdir, cpus, mem, duration, deadline, max_delay, sites, "
	    "interruptible, policy, state, submit_time, reason, tags, power_w, "
	    "data_gb, policy_applied, duration_source, site, ext_id, adopted, "
	    "groups, image, stdout_file, stderr_file, begin, gpus) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_GET] = "SELECT " JOB_COLS " FROM jobs WHERE id = ?",
	[ST_SAVE] = "UPDATE jobs SET state = ?, planned_start = ?, site = ?, "
	    "start_time = ?, end_time = ?, exit_code = ?, signal = ?, "
	    "cpu_usec = ?, peak_mem = ?, measure = ?, reason = ?, "
	    "duration = ?, max_delay = ?, deadline = ?, sites = ?, "
	    "interruptible = ?, power_w = ?, policy_applied = ?, "
	    "duration_source = ?, plan_why = ?, expected_g = ?, now_g = ?, "
	    "alt_site = ?, alt_start = ?, alt_g = ?, ext_id = ?, held = ?, "
	    "start_now = ? WHERE id = ?",
	[ST_EVENT] = "INSERT INTO events (job_id, time, from_state, to_state, "
	    "reason) VALUES (?, ?, ?, ?, ?)",
	[ST_EVENTS] = "SELECT time, from_state, to_state, reason FROM events "
	    "WHERE job_id = ? ORDER BY rowid",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_CI_PUT] = "INSERT OR REPLACE INTO ci_points (zone, signal, t, kind, "
	    "source, vkey, vintage, value, flags) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "?, ?)",
	/* Per t: actuals first, then the newest vintage; callers keep the
	 * first row of each t. */
	[ST_CI_GET] = "SELECT t, kind, source, vintage, value, flags FROM "
	    "ci_points WHERE zone = ? AND signal = ? AND t >= ? AND t < ? AND "
	    "vintage <= ? AND (kind = 0 OR ? = 0) ORDER BY t, kind, "
	    "vintage DESC, source",
	[ST_PROV_PUT] = "INSERT OR REPLACE INTO providers (site, provider, "
	    "last_try, last_ok, since, failing, reason, failures, rejected, "
	    "retry_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_RUNS] = "SELECT end_time - start_time FROM jobs WHERE uid = ? AND "
	    "name = ? AND state = 'succeeded' AND start_time > 0 AND "
	    "end_time >= start_time ORDER BY id DESC LIMIT ?",
	[ST_PROV_GET] = "SELECT last_try, last_ok, since, failing, reason, "
	    "failures, rejected, retry_at FROM providers WHERE site = ? AND "
	    "provider = ?",
	/* A re-recorded interval (same start) replaces the earlier one. */
	[ST_LI_ADD] = "INSERT OR REPLACE INTO ledger_intervals (job_id, t0, "
	    "t1, energy_j, method) VALUES (?, ?, ?, ?, ?)",
	[ST_LJ_OPEN] = "INSERT INTO ledger_jobs (job_id, status, energy_j) "
	    "VALUES (?1, 'provisional', (SELECT total(energy_j) FROM "
	    "ledger_intervals WHERE job_id = ?1)) ON CONFLICT (job_id) DO "
	    "UPDATE SET status = 'provisional', energy_j = excluded.energy_j",
	[ST_LI_GET] = "SELECT t0, t1, energy_j, method, intensity, kind, "
	    "provider, signal, vintage, pue, grams FROM ledger_intervals "
	    "WHERE job_id = ? ORDER BY t0",
	[ST_LI_SET] = "UPDATE ledger_intervals SET intensity = ?, kind = ?, "
	    "provider = ?, signal = ?, vintage = ?, pue = ?, grams = ? "
	    "WHERE job_id = ? AND t0 = ?",
	/* A row that turns final gets the next final_seq and one more
	 * revision; one final already keeps both. */
	[ST_LJ_PUT] = "INSERT INTO ledger_jobs (job_id, energy_j, grams, "
	    "unknown_j, counterfactual_g, status, method, signal, intensity, "
	    "embodied_g, settled, final_seq, revision) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, CASE WHEN ?6 = 'final' THEN "
	    "(SELECT coalesce(max(final_seq), 0) + 1 FROM ledger_jobs) END, "
	    "?6 = 'final') ON CONFLICT (job_id) DO UPDATE SET "
	    "energy_j = excluded.energy_j, grams = excluded.grams, "
	    "unknown_j = excluded.unknown_j, "
	    "counterfactual_g = excluded.counterfactual_g, "
	    "method = excluded.method, signal = excluded.signal, "
	    "intensity = excluded.intensity, embodied_g = excluded.embodied_g, "
	    "settled = excluded.settled, final_seq = CASE WHEN "
	    "excluded.status = 'final' AND status <> 'final' THEN "
	    "excluded.final_seq ELSE final_seq END, revision = revision + "
	    "(excluded.status = 'final' AND status <> 'final'), "
	    "status = excluded.status",
	[ST_LJ_GET] = "SELECT energy_j, grams, unknown_j, counterfactual_g, "
	    "status, method, signal, intensity, embodied_g, settled FROM "
	    "ledger_jobs WHERE job_id = ?",
	[ST_LJ_PROV] = "SELECT job_id FROM ledger_jobs WHERE status = "
	    "'provisional' ORDER BY job_id",
	[ST_BY_EXT] = "SELECT id FROM jobs WHERE site = ? AND ext_id = ? AND "
	    "submit_time = ?",
	[ST_FINAL_AFTER] = "SELECT job_id, final_seq, revision FROM "
	    "ledger_jobs WHERE status = 'final' AND final_seq > ? ORDER BY "
	    "final_seq LIMIT ?",
	[ST_FINAL_COUNT] = "SELECT count(*) FROM ledger_jobs WHERE "
	    "status = 'final' AND final_seq > ?",
	[ST_EXPORT_GET] = "SELECT instance, sent_seq, sent_at FROM "
	    "export_state WHERE id = 1",
	[ST_EXPORT_SET] = "UPDATE export_state SET sent_seq = ?, sent_at = ? "
	    "WHERE id = 1",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_N];
	int		 in_txn;
	int		 pending;
	char		*reserve;	/* <db>.reserve */
	char		*dir;		/* the db's directory */
	int		 full;		/* the reserve was spent */
	char		 full_why[512];
	char		 errmsg[512];
};

/* The error of the last call, with the system's own cause when known. */
static int
fail(struct store *s, const char *what)
{
	int e = sqlite3_system_errno(s->db);

	snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s%s%s", what,
	    sqlite3_errmsg(s->db), e != 0 ? ": " : "", e != 0 ? strerror(e) :
	    "");
	return -1;
}

/*
 * The reserve: STORE_RESERVE bytes set aside next to the database, given
 * back when a commit finds the disk full, so that the commit (and those of
 * running jobs' ends) can still be made.
 */
static int
reserve_make(struct store *s)
{
	int fd = open(s->reserve, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600), rc;

	if (fd == -1)
		return -1;
	rc = posix_fallocate(fd, 0, STORE_RESERVE);
	close(fd);
	if (rc != 0) {
		unlink(s->reserve);
		errno = rc;
		return -1;
	}
	return 0;
}

const char *
store_errmsg(const struct store *s)
{
	return s->errmsg;
}

static int
exec_sql(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg ? msg :
		    sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
pragma_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, sql);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(s, sql);
}

static int
migrate(struct store *s)
{
	int version, n = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (pragma_int(s, "PRAGMA user_version", &version) == -1)
		return -1;
	if (version > n) {
		snprintf(s->errmsg, sizeof(s->errmsg), "database schema "
		    "version %d is newer than this ebbd understands (%d)",
		    version, n);
		return -1;
	}
	for (; version < n; version++) {
		char *sql = xasprintf("BEGIN; %s PRAGMA user_version = %d; "
		    "COMMIT;", migrations[version], version + 1);
		int rc = exec_sql(s, sql);

		free(sql);
		if (rc == -1) {
			exec_sql(s, "ROLLBACK");
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int mode;

	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		snprintf(err, errlen, "%s: read-only (the file or its file "
		    "system): ebbd must be able to write its state", path);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* A 1 MiB page cache: ebbd reads few rows at a time and stays small. */
	if (exec_sql(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
	    " PRAGMA foreign_keys = ON; PRAGMA cache_size = -1024;") == -1 ||
	    pragma_int(s, "PRAGMA quick_check = 1", &mode) == -1 ||
	    migrate(s) == -1) {
		snprintf(err, errlen, "%s: %s", path, s->errmsg);
		goto fail;
	}
	s->reserve = xasprintf("%s.reserve", path);
	{
		char *copy = xstrdup(path);

		s->dir = xstrdup(dirname(copy));
		free(copy);
	}
	if (reserve_make(s) == -1) {
		/* No room even for the reserve: start refusing new jobs. */
		snprintf(s->full_why, sizeof(s->full_why), "%s: %s",
		    s->reserve, strerror(errno));
		s->full = 1;
	}
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path,
			    sqlite3_errmsg(s->db));
			goto fail;
		}
	}
	return s;
fail:
	store_close(s);
	return NULL;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		store_commit(s);
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s->reserve);
	free(s->dir);
	free(s);
}

/* Runs a statement that returns no rows, then resets it. */
static int
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		fail(s, what);	/* before the reset, which clears the cause */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
begin(struct store *s)
{
	if (s->in_txn)
		return 0;
	if (step_done(s, s->st[ST_BEGIN], "begin") == -1)
		return -1;
	s->in_txn = 1;
	return 0;
}

int
store_commit(struct store *s)
{
	char first[sizeof(s->errmsg)];

	struct statvfs vfs;

	if (!s->in_txn)
		return 0;
	s->in_txn = 0;
	s->pending = 0;
	/*
	 * A commit that finds the disk full may be rolled back by sqlite,
	 * leaving ebbd's memory ahead of its state: so look first, and when
	 * the file system is nearly full spend the reserve for this commit
	 * and the few that follow (jobs ending), and refuse what would fill
	 * it further (store_full) until space returns.
	 */
	if (!s->full && statvfs(s->dir, &vfs) == 0 && (uint64_t)vfs.f_bavail *
	    vfs.f_frsize < STORE_LOW && unlink(s->reserve) == 0) {
		snprintf(s->full_why, sizeof(s->full_why), "%s: %llu bytes "
		    "free: %s", s->dir, (unsigned long long)vfs.f_bavail *
		    vfs.f_frsize, strerror(ENOSPC));
		s->full = 1;
	}
	if (step_done(s, s->st[ST_COMMIT], "commit") == 0)
		return 0;
	if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_FULL &&
	    !sqlite3_get_autocommit(s->db) && !s->full &&
	    unlink(s->reserve) == 0) {
		snprintf(s->full_why, sizeof(s->full_why), "%s", s->errmsg);
		s->full = 1;
		if (step_done(s, s->st[ST_COMMIT], "commit") == 0)
			return 0;
	}
	/* Keep the first error: a failed rollback says nothing of why. */
	memcpy(first, s->errmsg, sizeof(first));
	if (!sqlite3_get_autocommit(s->db))
		step_done(s, s->st[ST_ROLLBACK], "rollback");
	memcpy(s->errmsg, first, sizeof(first));
	return -1;
}

const char *
store_full(const struct store *s)
{
	return s->full ? s->full_why : NULL;
}

int
store_check_space(struct store *s)
{
	struct statvfs vfs;

	if (!s->full)
		return 0;
	if (statvfs(s->dir, &vfs) == -1 || (uint64_t)vfs.f_bavail *
	    vfs.f_frsize < (uint64_t)STORE_RESERVE + 2 * STORE_LOW ||
	    reserve_make(s) == -1)
		return -1;
	s->full = 0;
	s->full_why[0] = '\0';
	return 0;
}

int
store_pending(const struct store *s)
{
	return s->pending;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_json(sqlite3_stmt *st, int i, const json_t *v)
{
	if (v == NULL)
		sqlite3_bind_text(st, i, "[]", -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(st, i, json_dumps(v, JSON_COMPACT), -1,
		    free);
}

static int
add_event(struct store *s, int64_t id, int64_t when, const char *from,
    const char *to, const char *reason)
{
	sqlite3_stmt *st = s->st[ST_EVENT];

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, when);
	bind_text(st, 3, from);
	bind_text(st, 4, to);
	bind_text(st, 5, reason);
	s->pending++;
	return step_done(s, st, "insert event");
}

int
store_job_insert(struct store *s, struct job *j)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	int i = 1;

	if (begin(s) == -1)
		return -1;
	bind_text(st, i++, j->name);
	bind_text(st, i++, j->user);
	sqlite3_bind_int64(st, i++, j->uid);
	sqlite3_bind_int64(st, i++, j->gid);
	bind_json(st, i++, j->argv);
	bind_json(st, i++, j->env);
	bind_text(st, i++, j->workdir);
	sqlite3_bind_int(st, i++, j->cpus);
	sqlite3_bind_int64(st, i++, j->mem);
	sqlite3_bind_int64(st, i++, j->duration);
	sqlite3_bind_int64(st, i++, j->deadline);
	sqlite3_bind_int64(st, i++, j->max_delay);
	bind_json(st, i++, j->sites);
	sqlite3_bind_int(st, i++, j->interruptible);
	bind_text(st, i++, j->policy);
	bind_text(st, i++, job_state_name(j->state));
	sqlite3_bind_int64(st, i++, j->submit_time);
	bind_text(st, i++, j->reason);
	bind_json(st, i++, j->tags);
	sqlite3_bind_double(st, i++, j->power_w);
	sqlite3_bind_double(st, i++, j->data_gb);
	bind_text(st, i++, j->policy_applied);
	bind_text(st, i++, j->duration_source);
	bind_text(st, i++, j->site);
	bind_text(st, i++, j->ext_id);
	sqlite3_bind_int(st, i++, j->adopted);
	if (j->groups != NULL)
		bind_json(st, i++, j->groups);
	else
		sqlite3_bind_null(st, i++);
	bind_text(st, i++, j->image);
	bind_text(st, i++, j->stdout_file);
	bind_text(st, i++, j->stderr_file);
	sqlite3_bind_int64(st, i++, j->begin);
	sqlite3_bind_int(st, i++, j->gpus);
	if (step_done(s, st, "insert job") == -1)
		return -1;
	j->id = sqlite3_last_insert_rowid(s->db);
	return add_event(s, j->id, j->submit_time, NULL,
	    job_state_name(j->state), j->reason);
}

static char *
col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? xstrdup((const char *)t) : NULL;
}

static json_t *
col_json(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;

	return v ? v : json_array();
}

/* Builds a job from a row of JOB_COLS. */
static struct job *
row_job(sqlite3_stmt *st, int with_env)
{
	struct job *j = job_new();
	char *state;
	int i = 0;

	j->id = sqlite3_column_int64(st, i++);
	j->name = col_text(st, i++);
	j->user = col_text(st, i++);
	j->uid = (uint32_t)sqlite3_column_int64(st, i++);
	j->gid = (uint32_t)sqlite3_column_int64(st, i++);
	j->argv = col_json(st, i++);
	j->env = with_env ? col_json(st, i) : json_array();
	i++;
	j->workdir = col_text(st, i++);
	j->cpus = sqlite3_column_int(st, i++);
	j->mem = sqlite3_column_int64(st, i++);
	j->duration = sqlite3_column_int64(st, i++);
	j->deadline = sqlite3_column_int64(st, i++);
	j->max_delay = sqlite3_column_int64(st, i++);
	j->sites = col_json(st, i++);
	j->interruptible = sqlite3_column_int(st, i++);
	j->policy = col_text(st, i++);
	state = col_text(st, i++);
	j->state = (enum job_state)job_state_parse(state ? state : "");
	free(state);
	j->submit_time = sqlite3_column_int64(st, i++);
	j->planned_start = sqlite3_column_int64(st, i++);
	j->site = col_text(st, i++);
	j->start_time = sqlite3_column_int64(st, i++);
	j->end_time = sqlite3_column_int64(st, i++);
	j->exit_code = sqlite3_column_int(st, i++);
	j->signal = sqlite3_column_int(st, i++);
	j->cpu_usec = sqlite3_column_int64(st, i++);
	j->peak_mem = sqlite3_column_int64(st, i++);
	j->measure = col_text(st, i++);
	j->reason = col_text(st, i++);
	j->tags = col_json(st, i++);
	j->power_w = sqlite3_column_double(st, i++);
	j->data_gb = sqlite3_column_double(st, i++);
	j->policy_applied = col_text(st, i++);
	j->duration_source = col_text(st, i++);
	j->plan_why = col_text(st, i++);
	j->expected_g = sqlite3_column_double(st, i++);
	j->now_g = sqlite3_column_double(st, i++);
	j->alt_site = col_text(st, i++);
	j->alt_start = sqlite3_column_int64(st, i++);
	j->alt_g = sqlite3_column_double(st, i++);
	j->ext_id = col_text(st, i++);
	j->adopted = sqlite3_column_int(st, i++);
	if (sqlite3_column_type(st, i) != SQLITE_NULL)
		j->groups = col_json(st, i);
	i++;
	j->image = col_text(st, i++);
	j->held = sqlite3_column_int(st, i++);
	j->start_now = sqlite3_column_int(st, i++);
	j->stdout_file = col_text(st, i++);
	j->stderr_file = col_text(st, i++);
	j->begin = sqlite3_column_int64(st, i++);
	j->gpus = sqlite3_column_int(st, i++);
	return j;
}

int
store_job_get(struct store *s, int64_t id, struct job **out)
{
	sqlite3_stmt *st = s->st[ST_GET];
	int rc;

	*out = NULL;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_job(st, 1);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "get job");
	return *out != NULL;
}

int
store_job_by_ext(struct store *s, const char *site, const char *ext_id,
    int64_t submit_time, int64_t *id)
{
	sqlite3_stmt *st = s->st[ST_BY_EXT];
	int rc;

	bind_text(st, 1, site);
	bind_text(st, 2, ext_id);
	sqlite3_bind_int64(st, 3, submit_time);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "find job by external id");
	return rc == SQLITE_ROW;
}

int
store_job_save(struct store *s, const struct job *j)
{
	sqlite3_stmt *st = s->st[ST_SAVE];
	int i = 1;

	if (begin(s) == -1)
		return -1;
	bind_text(st, i++, job_state_name(j->state));
	sqlite3_bind_int64(st, i++, j->planned_start);
	bind_text(st, i++, j->site);
	sqlite3_bind_int64(st, i++, j->start_time);
	sqlite3_bind_int64(st, i++, j->end_time);
	sqlite3_bind_int(st, i++, j->exit_code);
	sqlite3_bind_int(st, i++, j->signal);
	sqlite3_bind_int64(st, i++, j->cpu_usec);
	sqlite3_bind_int64(st, i++, j->peak_mem);
	bind_text(st, i++, j->measure);
	bind_text(st, i++, j->reason);
	sqlite3_bind_int64(st, i++, j->duration);
	sqlite3_bind_int64(st, i++, j->max_delay);
	sqlite3_bind_int64(st, i++, j->deadline);
	bind_json(st, i++, j->sites);
	sqlite3_bind_int(st, i++, j->interruptible);
	sqlite3_bind_double(st, i++, j->power_w);
	bind_text(st, i++, j->policy_applied);
	bind_text(st, i++, j->duration_source);
	bind_text(st, i++, j->plan_why);
	sqlite3_bind_double(st, i++, j->expected_g);
	sqlite3_bind_double(st, i++, j->now_g);
	bind_text(st, i++, j->alt_site);
	sqlite3_bind_int64(st, i++, j->alt_start);
	sqlite3_bind_double(st, i++, j->alt_g);
	bind_text(st, i++, j->ext_id);
	sqlite3_bind_int(st, i++, j->held);
	sqlite3_bind_int(st, i++, j->start_now);
	sqlite3_bind_int64(st, i++, j->id);
	s->pending++;
	return step_done(s, st, "save job");
}

int
store_job_transition(struct store *s, struct job *j, enum job_state to,
    int64_t when, const char *reason)
{
	enum job_state from = j->state;

	j->state = to;
	free(j->reason);
	j->reason = reason ? xstrdup(reason) : NULL;
	if (store_job_save(s, j) == -1)
		return -1;
	return add_event(s, j->id, when, job_state_name(from),
	    job_state_name(to), reason);
}

int
store_jobs_foreach(struct store *s, const struct store_filter *f,
    int (*cb)(void *, const struct job *), void *arg)
{
	char where[512] = "1";
	sqlite3_stmt *st;
	int rc, first = 1;

	if (f->states != 0) {
		strcat(where, " AND state IN (");
		for (int i = 0; i < JOB_NSTATES; i++) {
			if (!(f->states & (1u << i)))
				continue;
			if (!first)
				strcat(where, ",");
			strcat(where, "'");
			strcat(where, job_state_name((enum job_state)i));
			strcat(where, "'");
			first = 0;
		}
		strcat(where, ")");
	}
	if (f->uid >= 0) {
		size_t n = strlen(where);

		snprintf(where + n, sizeof(where) - n, " AND uid = %lld",
		    (long long)f->uid);
	}
	if (f->submitted_since > 0) {
		size_t n = strlen(where);

		snprintf(where + n, sizeof(where) - n, " AND submit_time >= "
		    "%lld", (long long)f->submitted_since);
	}
	if (f->after_id > 0) {
		size_t n = strlen(where);

		snprintf(where + n, sizeof(where) - n, " AND id > %lld",
		    (long long)f->after_id);
	}
	/* Names come from users: bound, never written into the SQL. */
	if (f->name != NULL)
		strcat(where, " AND name = ?1");
	if (f->user != NULL)
		strcat(where, " AND user = ?2");
	{
		char *sql = xasprintf("SELECT " JOB_COLS " FROM jobs WHERE %s "
		    "ORDER BY id", where);

		rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
		free(sql);
	}
	if (rc != SQLITE_OK)
		return fail(s, "list jobs");
	if (f->name != NULL)
		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	if (f->user != NULL)
		sqlite3_bind_text(st, 2, f->user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct job *j = row_job(st, f->with_env);
		int stop = cb(arg, j);

		job_free(j);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "list jobs");
}

json_t *
store_events(struct store *s, int64_t id)
{
	sqlite3_stmt *st = s->st[ST_EVENTS];
	json_t *a = json_array();
	int rc;

	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *e = json_object();
		const char *from = (const char *)sqlite3_column_text(st, 1);
		const char *reason = (const char *)sqlite3_column_text(st, 3);

		json_object_set_new(e, "time",
		    json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(e, "from", from ? json_string(from) :
		    json_null());
		json_object_set_new(e, "to", json_string((const char *)
		    sqlite3_column_text(st, 2)));
		json_object_set_new(e, "reason", reason ? json_string(reason) :
		    json_null());
		json_array_append_new(a, e);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		fail(s, "list events");
		return NULL;
	}
	return a;
}

int
store_ci_put(struct store *s, const struct ci_batch *b)
{
	sqlite3_stmt *st = s->st[ST_CI_PUT];

	if (begin(s) == -1)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct ci_point *p = &b->pts[i];

		sqlite3_bind_text(st, 1, b->zone, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, b->signal);
		sqlite3_bind_int64(st, 3, p->t);
		sqlite3_bind_int(st, 4, p->kind);
		sqlite3_bind_text(st, 5, b->source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, p->kind == CI_ACTUAL ? 0 : p->vintage);
		sqlite3_bind_int64(st, 7, p->vintage);
		sqlite3_bind_double(st, 8, p->value);
		sqlite3_bind_int(st, 9, p->flags);
		s->pending++;
		if (step_done(s, st, "store intensity") == -1)
			return -1;
	}
	return 0;
}

int
store_ci_best(struct store *s, const char *zone, enum ci_signal signal,
    int64_t t0, int64_t t1, int64_t asof, int actual_only,
    void (*cb)(void *, const struct ci_point *, const char *), void *arg)
{
	sqlite3_stmt *st = s->st[ST_CI_GET];
	int64_t last = INT64_MIN;
	int rc;

	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, signal);
	sqlite3_bind_int64(st, 3, t0);
	sqlite3_bind_int64(st, 4, t1);
	sqlite3_bind_int64(st, 5, asof);
	sqlite3_bind_int(st, 6, actual_only);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ci_point p;

		p.t = sqlite3_column_int64(st, 0);
		if (p.t == last)
			continue;
		last = p.t;
		p.kind = (uint8_t)sqlite3_column_int(st, 1);
		p.vintage = sqlite3_column_int64(st, 3);
		p.value = sqlite3_column_double(st, 4);
		p.flags = (uint8_t)sqlite3_column_int(st, 5);
		cb(arg, &p, (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "read intensity");
}

int
store_prov_put(struct store *s, const char *site, const char *provider,
    const struct store_prov *p)
{
	sqlite3_stmt *st = s->st[ST_PROV_PUT];

	if (begin(s) == -1)
		return -1;
	sqlite3_bind_text(st, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->last_try);
	sqlite3_bind_int64(st, 4, p->last_ok);
	sqlite3_bind_int64(st, 5, p->since);
	sqlite3_bind_int(st, 6, p->failing);
	bind_text(st, 7, p->reason[0] ? p->reason : NULL);
	sqlite3_bind_int64(st, 8, p->failures);
	sqlite3_bind_int64(st, 9, p->rejected);
	sqlite3_bind_int64(st, 10, p->retry_at);
	s->pending++;
	return step_done(s, st, "save provider status");
}

int
store_prov_get(struct store *s, const char *site, const char *provider,
    struct store_prov *p)
{
	sqlite3_stmt *st = s->st[ST_PROV_GET];
	int rc;

	memset(p, 0, sizeof(*p));
	sqlite3_bind_text(st, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 4);

		p->last_try = sqlite3_column_int64(st, 0);
		p->last_ok = sqlite3_column_int64(st, 1);
		p->since = sqlite3_column_int64(st, 2);
		p->failing = sqlite3_column_int(st, 3);
		snprintf(p->reason, sizeof(p->reason), "%s", r ? r : "");
		p->failures = sqlite3_column_int64(st, 5);
		p->rejected = sqlite3_column_int64(st, 6);
		p->retry_at = sqlite3_column_int64(st, 7);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "read provider status");
	return rc == SQLITE_ROW;
}

int
store_run_times(struct store *s, uint32_t uid, const char *name,
    int64_t *out, size_t max)
{
	sqlite3_stmt *st = s->st[ST_RUNS];
	size_t n = 0;
	int rc;

	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		out[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "read run times");
	return (int)n;
}

int
store_ledger_record(struct store *s, int64_t job_id, int64_t t0, int64_t t1,
    double energy_j, const char *method)
{
	sqlite3_stmt *st = s->st[ST_LI_ADD];

	if (begin(s) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, t0);
	sqlite3_bind_int64(st, 3, t1);
	sqlite3_bind_double(st, 4, energy_j);
	bind_text(st, 5, method);
	s->pending++;
	if (step_done(s, st, "record energy") == -1)
		return -1;
	st = s->st[ST_LJ_OPEN];
	sqlite3_bind_int64(st, 1, job_id);
	s->pending++;
	return step_done(s, st, "open ledger");
}

/* A REAL column, NAN when NULL. */
static double
col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN :
	    sqlite3_column_double(st, i);
}

static void
bind_real(sqlite3_stmt *st, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

static void
col_copy(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t ? t : "");
}

int
store_ledger_intervals(struct store *s, int64_t job_id,
    struct store_interval **out, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_LI_GET];
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, job_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_interval *iv;

		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		iv = &(*out)[(*n)++];
		iv->t0 = sqlite3_column_int64(st, 0);
		iv->t1 = sqlite3_column_int64(st, 1);
		iv->energy_j = sqlite3_column_double(st, 2);
		col_copy(st, 3, iv->method, sizeof(iv->method));
		iv->intensity = col_real(st, 4);
		col_copy(st, 5, iv->kind, sizeof(iv->kind));
		col_copy(st, 6, iv->provider, sizeof(iv->provider));
		col_copy(st, 7, iv->signal, sizeof(iv->signal));
		iv->vintage = sqlite3_column_int64(st, 8);
		iv->pue = col_real(st, 9);
		iv->grams = col_real(st, 10);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return fail(s, "read ledger intervals");
	}
	return 0;
}

int
store_ledger_interval_set(struct store *s, int64_t job_id,
    const struct store_interval *iv)
{
	sqlite3_stmt *st = s->st[ST_LI_SET];

	if (begin(s) == -1)
		return -1;
	bind_real(st, 1, iv->intensity);
	bind_text(st, 2, iv->kind[0] ? iv->kind : NULL);
	bind_text(st, 3, iv->provider[0] ? iv->provider : NULL);
	bind_text(st, 4, iv->signal[0] ? iv->signal : NULL);
	sqlite3_bind_int64(st, 5, iv->vintage);
	bind_real(st, 6, iv->pue);
	bind_real(st, 7, iv->grams);
	sqlite3_bind_int64(st, 8, job_id);
	sqlite3_bind_int64(st, 9, iv->t0);
	s->pending++;
	return step_done(s, st, "settle ledger interval");
}

int
store_ledger_put(struct store *s, int64_t job_id, const struct store_ledger *l)
{
	sqlite3_stmt *st = s->st[ST_LJ_PUT];
	int i = 1;

	if (begin(s) == -1)
		return -1;
	sqlite3_bind_int64(st, i++, job_id);
	sqlite3_bind_double(st, i++, l->energy_j);
	bind_real(st, i++, l->grams);
	sqlite3_bind_double(st, i++, l->unknown_j);
	bind_real(st, i++, l->counterfactual_g);
	bind_text(st, i++, l->final ? "final" : "provisional");
	bind_text(st, i++, l->method[0] ? l->method : NULL);
	bind_text(st, i++, l->signal[0] ? l->signal : NULL);
	bind_real(st, i++, l->intensity);
	sqlite3_bind_double(st, i++, l->embodied_g);
	sqlite3_bind_int64(st, i++, l->settled);
	s->pending++;
	return step_done(s, st, "save ledger");
}

int
store_ledger_get(struct store *s, int64_t job_id, struct store_ledger *l)
{
	sqlite3_stmt *st = s->st[ST_LJ_GET];
	char status[16];
	int rc;

	memset(l, 0, sizeof(*l));
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		l->energy_j = sqlite3_column_double(st, 0);
		l->grams = col_real(st, 1);
		l->unknown_j = sqlite3_column_double(st, 2);
		l->counterfactual_g = col_real(st, 3);
		col_copy(st, 4, status, sizeof(status));
		l->final = strcmp(status, "final") == 0;
		col_copy(st, 5, l->method, sizeof(l->method));
		col_copy(st, 6, l->signal, sizeof(l->signal));
		l->intensity = col_real(st, 7);
		l->embodied_g = sqlite3_column_double(st, 8);
		l->settled = sqlite3_column_int64(st, 9);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "read ledger");
	return rc == SQLITE_ROW;
}

int
store_ledger_provisional(struct store *s, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_LJ_PROV];
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*ids = xrealloc(*ids, cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return fail(s, "list provisional ledgers");
	}
	return 0;
}

int
store_counts(struct store *s, int64_t states[JOB_NSTATES],
    struct store_totals *t)
{
	sqlite3_stmt *st;
	int rc;

	memset(states, 0, JOB_NSTATES * sizeof(states[0]));
	memset(t, 0, sizeof(*t));
	if (sqlite3_prepare_v2(s->db, "SELECT state, count(*) FROM jobs "
	    "GROUP BY state", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "count jobs");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = job_state_parse((const char *)sqlite3_column_text(st,
		    0));

		if (k >= 0)
			states[k] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, "count jobs");
	/* No saving is claimed for a job its user started at once. */
	if (sqlite3_prepare_v2(s->db, "SELECT total(energy_j), total(grams), "
	    "total(CASE WHEN settled AND counterfactual_g IS NOT NULL AND "
	    "NOT coalesce((SELECT start_now FROM jobs WHERE jobs.id = "
	    "ledger_jobs.job_id), 0) THEN counterfactual_g - grams ELSE 0 END) "
	    "FROM ledger_jobs", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "ledger totals");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t->energy_j = sqlite3_column_double(st, 0);
		t->grams = sqlite3_column_double(st, 1);
		t->saving_g = sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(s, "ledger totals");
}

int
store_recent_jobs(struct store *s, int64_t since, int max,
    void (*cb)(void *arg, const struct store_recent *), void *arg,
    int64_t *total)
{
	sqlite3_stmt *st;
	struct store_recent r;
	int rc;

	*total = 0;
	/* Each user's jobs numbered (running first, then the latest ended);
	 * taking them in that number's order is the round-robin. The two
	 * halves each read an index (jobs_state, jobs_end), whatever the
	 * query planner would make of an OR. */
	if (sqlite3_prepare_v2(s->db, "SELECT id, name, user, uid, site, "
	    "energy_j, grams, total FROM (SELECT j.id, substr(j.name, 1, ?3) "
	    "AS name, j.user, j.uid, j.site, l.energy_j, CASE WHEN "
	    "l.settled > 0 THEN l.grams END AS grams, row_number() OVER "
	    "(PARTITION BY j.uid ORDER BY j.running DESC, j.end_time DESC, "
	    "j.id DESC) AS rn, count(*) OVER () AS total FROM ("
	    "SELECT id, name, user, uid, site, end_time, 1 AS running FROM "
	    "jobs WHERE state = 'running' UNION ALL "
	    "SELECT id, name, user, uid, site, end_time, 0 FROM jobs WHERE "
	    "end_time >= ?1 AND start_time > 0 AND state <> 'running') j "
	    "LEFT JOIN ledger_jobs l ON l.job_id = j.id) "
	    "ORDER BY rn, uid, id LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "list recent jobs");
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int(st, 2, max);
	sqlite3_bind_int(st, 3, JOB_NAME_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(st, 0);
		r.name = (const char *)sqlite3_column_text(st, 1);
		r.user = (const char *)sqlite3_column_text(st, 2);
		r.uid = (uint32_t)sqlite3_column_int64(st, 3);
		r.site = (const char *)sqlite3_column_text(st, 4);
		r.energy_j = sqlite3_column_double(st, 5);
		r.grams = col_real(st, 6);
		*total = sqlite3_column_int64(st, 7);
		if (r.name == NULL)
			r.name = "";
		if (r.user == NULL)
			r.user = "";
		if (r.site == NULL)
			r.site = "";
		cb(arg, &r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "list recent jobs");
}

int
store_final_after(struct store *s, int64_t after, size_t max,
    struct store_final *out, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_FINAL_AFTER];
	int rc = SQLITE_DONE;

	*n = 0;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out[*n].job_id = sqlite3_column_int64(st, 0);
		out[*n].seq = sqlite3_column_int64(st, 1);
		out[*n].revision = sqlite3_column_int(st, 2);
		(*n)++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fail(s, "list final ledger rows");	/* before the reset */
		*n = 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_final_count(struct store *s, int64_t after, int64_t *n)
{
	sqlite3_stmt *st = s->st[ST_FINAL_COUNT];
	int rc;

	sqlite3_bind_int64(st, 1, after);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		fail(s, "count final ledger rows");	/* before the reset */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_export_get(struct store *s, char instance[33], int64_t *sent_seq,
    int64_t *sent_at)
{
	sqlite3_stmt *st = s->st[ST_EXPORT_GET];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		col_copy(st, 0, instance, 33);
		*sent_seq = sqlite3_column_int64(st, 1);
		*sent_at = sqlite3_column_int64(st, 2);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		fail(s, "read export cursor");	/* before the reset */
	else if (rc == SQLITE_DONE)
		snprintf(s->errmsg, sizeof(s->errmsg), "read export cursor: "
		    "no row");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_export_set(struct store *s, int64_t sent_seq, int64_t when)
{
	sqlite3_stmt *st = s->st[ST_EXPORT_SET];

	if (begin(s) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, sent_seq);
	sqlite3_bind_int64(st, 2, when);
	s->pending++;
	return step_done(s, st, "advance export cursor");
}
