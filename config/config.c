/*
 * config: the ebb.yaml key tables, defaults and checks (see config.h).
 *
 * Parsing, type checks and error positions come from yamltree; this file
 * holds one table row per key, the defaults, the few checks that look at
 * more than one value (unique site names), and config_dump(), which writes
 * the normalised file with libyaml's emitter. It does not touch the state
 * directory or the socket: ebbd creates them.
 */
#include <math.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "config/yamltree.h"

#define SYSTEM_STATE_DIR	"/var/lib/ebb"
#define SYSTEM_SOCKET		"/run/ebb/ebbd.sock"
#define SOCKET_NAME		"ebbd.sock"

static const char *const log_levels[] = {
	"error", "warn", "info", "debug", NULL,
};

static int
check_site_name(const void *field, char *err, size_t errlen)
{
	const char *s = *(char *const *)field;

	if (s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-")] != '\0') {
		snprintf(err, errlen, "'%s' may only contain letters, digits, "
		    "'_', '.' and '-'", s);
		return -1;
	}
	return 0;
}

static int
check_backend(const void *field, char *err, size_t errlen)
{
	const char *s = *(char *const *)field;

	if (strcmp(s, "local") != 0) {
		snprintf(err, errlen, "unknown backend '%s' (known: local)", s);
		return -1;
	}
	return 0;
}

static const struct yt_key site_keys[] = {
	{ .name = "name", .type = YT_STRING, .required = 1,
	  .offset = offsetof(struct ebb_site, name), .check = check_site_name,
	  .doc = "unique site name, [A-Za-z0-9_.-]+" },
	{ .name = "backend", .type = YT_STRING,
	  .offset = offsetof(struct ebb_site, backend), .check = check_backend,
	  .doc = "how jobs are started there: local" },
	{ .name = "cpus", .type = YT_INT, .min = 1, .max = 1 << 20,
	  .offset = offsetof(struct ebb_site, cpus),
	  .doc = "CPU capacity; default: online CPUs" },
	{ .name = "memory", .type = YT_SIZE, .min = 1, .max = INT64_MAX,
	  .offset = offsetof(struct ebb_site, memory),
	  .doc = "memory capacity; default: physical memory" },
	{ .name = "zone", .type = YT_STRING,
	  .offset = offsetof(struct ebb_site, zone),
	  .doc = "grid zone id of the site's electricity" },
	{ .name = "pue", .type = YT_FLOAT, .fmin = 1.0, .fmax = HUGE_VAL,
	  .offset = offsetof(struct ebb_site, pue),
	  .doc = "power usage effectiveness, >= 1.0" },
	{ .name = NULL },
};

static void site_init(void *);

static const struct yt_key config_keys[] = {
	{ .name = "state_dir", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, state_dir),
	  .doc = "directory of the job database and job files" },
	{ .name = "socket", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, socket),
	  .doc = "control socket path" },
	{ .name = "socket_group", .type = YT_STRING,
	  .offset = offsetof(struct ebb_config, socket_group),
	  .doc = "group owning the control socket" },
	{ .name = "socket_mode", .type = YT_MODE,
	  .offset = offsetof(struct ebb_config, socket_mode),
	  .doc = "permissions of the control socket" },
	{ .name = "admin_group", .type = YT_STRING,
	  .offset = offsetof(struct ebb_config, admin_group),
	  .doc = "members may act on every user's jobs" },
	{ .name = "runner", .type = YT_PATH,
	  .offset = offsetof(struct ebb_config, runner),
	  .doc = "path of ebb-run" },
	{ .name = "kill_grace", .type = YT_DURATION, .min = 0, .max = 86400,
	  .offset = offsetof(struct ebb_config, kill_grace),
	  .doc = "time between SIGTERM and SIGKILL on cancel" },
	{ .name = "log_level", .type = YT_ENUM, .choices = log_levels,
	  .offset = offsetof(struct ebb_config, log_level),
	  .doc = "error, warn, info or debug" },
	{ .name = "sites", .type = YT_MAPLIST, .sub = site_keys,
	  .offset = offsetof(struct ebb_config, sites),
	  .elemsize = sizeof(struct ebb_site),
	  .count_offset = offsetof(struct ebb_config, nsites),
	  .init = site_init, .doc = "where jobs can run" },
	{ .name = NULL },
};

static void
site_init(void *p)
{
	struct ebb_site *s = p;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);

	s->backend = xstrdup("local");
	s->cpus = cpus > 0 ? (int)cpus : 1;
	s->memory = pages > 0 && pagesize > 0 ? (int64_t)pages * pagesize :
	    INT64_C(1) << 30;
	s->pue = 1.0;
}

/* $XDG_STATE_HOME/ebb, else ~/.local/state/ebb (malloc'd). */
static char *
user_state_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/ebb", xdg);
	if ((home == NULL || home[0] != '/') &&
	    (pw = getpwuid(geteuid())) != NULL)
		home = pw->pw_dir;
	return xasprintf("%s/.local/state/ebb", home ? home : "");
}

/* Fills what the file left out. */
static void
fill_defaults(struct ebb_config *c)
{
	int root = geteuid() == 0;

	if (c->state_dir == NULL)
		c->state_dir = root ? xstrdup(SYSTEM_STATE_DIR) :
		    user_state_dir();
	if (c->socket == NULL)
		c->socket = root ? xstrdup(SYSTEM_SOCKET) :
		    xasprintf("%s/%s", c->state_dir, SOCKET_NAME);
	if (c->nsites == 0) {
		c->sites = xcalloc(1, sizeof(*c->sites));
		c->nsites = 1;
		site_init(&c->sites[0]);
		c->sites[0].name = xstrdup("local");
	}
}

static struct ebb_config *
config_new(void)
{
	struct ebb_config *c = xcalloc(1, sizeof(*c));

	c->socket_mode = 0660;
	c->kill_grace = 10;
	c->log_level = LOG_LVL_INFO;
	return c;
}

struct ebb_config *
config_default(void)
{
	struct ebb_config *c = config_new();

	c->path = xstrdup("(default)");
	fill_defaults(c);
	return c;
}

void
config_free(struct ebb_config *c)
{
	if (c == NULL)
		return;
	yt_free_fields(config_keys, c);
	free(c->path);
	free(c);
}

/* Site checks that span entries: at least one, names unique. */
static void
check_sites(struct yt_doc *d, const struct ebb_config *c)
{
	const struct yt_node *sites = yt_get(yt_root(d), "sites");

	if (sites == NULL || sites->kind != YT_SEQ)
		return;
	if (sites->nkids == 0) {
		yt_error(d, sites, "sites: at least one site is required");
		return;
	}
	for (size_t i = 1; i < c->nsites; i++) {
		const struct yt_node *n = yt_get(sites->kids[i], "name");

		if (c->sites[i].name == NULL || n == NULL)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct yt_node *first =
			    yt_get(sites->kids[j], "name");

			if (c->sites[j].name != NULL && first != NULL &&
			    strcmp(c->sites[i].name, c->sites[j].name) == 0) {
				yt_error(d, n, "duplicate site name '%s' "
				    "(first at line %d, column %d)",
				    c->sites[i].name, first->line, first->col);
				break;
			}
		}
	}
}

int
config_load(const char *path, struct ebb_config **out, char **errs)
{
	struct yt_doc *d = yt_load(path);
	struct ebb_config *c = config_new();
	char *abs;

	*out = NULL;
	*errs = NULL;
	if (yt_nerrors(d) == 0) {
		yt_decode(d, yt_root(d), config_keys, c);
		check_sites(d, c);
	}
	if (yt_nerrors(d) > 0) {
		*errs = yt_errors(d);
		yt_free(d);
		config_free(c);
		return -1;
	}
	if ((abs = realpath(path, NULL)) != NULL) {
		c->path = xstrdup(abs);
		free(abs);
	} else
		c->path = xstrdup(path);
	fill_defaults(c);
	yt_free(d);
	*out = c;
	return 0;
}

const struct ebb_site *
config_site(const struct ebb_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (strcmp(c->sites[i].name, name) == 0)
			return &c->sites[i];
	return NULL;
}

char *
config_client_socket(void)
{
	struct stat st;
	char *dir, *path;

	if (geteuid() == 0)
		return xstrdup(SYSTEM_SOCKET);
	dir = user_state_dir();
	path = xasprintf("%s/%s", dir, SOCKET_NAME);
	free(dir);
	if (stat(path, &st) == 0)
		return path;
	free(path);
	return xstrdup(SYSTEM_SOCKET);
}

/* config_dump(): libyaml's emitter writing into a growing string. */
struct sink {
	char	*buf;
	size_t	 len;
};

static int
sink_write(void *arg, unsigned char *data, size_t size)
{
	struct sink *s = arg;

	s->buf = xrealloc(s->buf, s->len + size + 1);
	memcpy(s->buf + s->len, data, size);
	s->len += size;
	s->buf[s->len] = '\0';
	return 1;
}

static void
emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(e, ev))
		fatalx("config_dump: yaml emitter: %s",
		    e->problem ? e->problem : "error");
}

/* A plain or double-quoted scalar. */
static void
emit_scalar(yaml_emitter_t *e, const char *s, int quote)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL,
	    (yaml_char_t *)(uintptr_t)s, (int)strlen(s), 1, 1,
	    quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	emit(e, &ev);
}

static void
emit_kv(yaml_emitter_t *e, const char *key, const char *value, int quote)
{
	emit_scalar(e, key, 0);
	emit_scalar(e, value, quote);
}

/* An optional string: null when unset, quoted when it would read as null. */
static void
emit_optstr(yaml_emitter_t *e, const char *key, const char *value)
{
	if (value == NULL)
		emit_kv(e, key, "null", 0);
	else
		emit_kv(e, key, value, value[0] == '\0' ||
		    strcmp(value, "~") == 0 || strcasecmp(value, "null") == 0);
}

/* The shortest decimal text that reads back as v. */
static void
fmt_double(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

/* A size that reads back exactly: "16G" when it is one, else bytes. */
static void
fmt_size_exact(int64_t bytes, char *buf, size_t len)
{
	int64_t back;
	char err[128];

	ebb_fmt_size(bytes, buf, len);
	if (ebb_parse_size(buf, &back, err, sizeof(err)) == -1 ||
	    back != bytes)
		snprintf(buf, len, "%lld", (long long)bytes);
}

static void
emit_site(yaml_emitter_t *e, const struct ebb_site *s)
{
	yaml_event_t ev;
	char buf[64];

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE);
	emit(e, &ev);
	emit_optstr(e, "name", s->name);
	emit_optstr(e, "backend", s->backend);
	snprintf(buf, sizeof(buf), "%d", s->cpus);
	emit_kv(e, "cpus", buf, 0);
	fmt_size_exact(s->memory, buf, sizeof(buf));
	emit_kv(e, "memory", buf, 0);
	emit_optstr(e, "zone", s->zone);
	fmt_double(s->pue, buf, sizeof(buf));
	emit_kv(e, "pue", buf, 0);
	yaml_mapping_end_event_initialize(&ev);
	emit(e, &ev);
}

char *
config_dump(const struct ebb_config *c)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	struct sink out = { xstrdup(""), 0 };
	char buf[64];

	yaml_emitter_initialize(&e);
	yaml_emitter_set_output(&e, sink_write, &out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&e, &ev);
	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_MAPPING_STYLE);
	emit(&e, &ev);
	emit_optstr(&e, "state_dir", c->state_dir);
	emit_optstr(&e, "socket", c->socket);
	emit_optstr(&e, "socket_group", c->socket_group);
	snprintf(buf, sizeof(buf), "%04o", (unsigned)c->socket_mode);
	emit_kv(&e, "socket_mode", buf, 1);
	emit_optstr(&e, "admin_group", c->admin_group);
	emit_optstr(&e, "runner", c->runner);
	emit_kv(&e, "kill_grace", ebb_fmt_duration(c->kill_grace, buf,
	    sizeof(buf)), 0);
	emit_kv(&e, "log_level", log_levels[c->log_level], 0);
	emit_scalar(&e, "sites", 0);
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE);
	emit(&e, &ev);
	for (size_t i = 0; i < c->nsites; i++)
		emit_site(&e, &c->sites[i]);
	yaml_sequence_end_event_initialize(&ev);
	emit(&e, &ev);
	yaml_mapping_end_event_initialize(&ev);
	emit(&e, &ev);
	yaml_document_end_event_initialize(&ev, 1);
	emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&e, &ev);
	yaml_emitter_delete(&e);
	return out.buf;
}
