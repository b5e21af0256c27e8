/*
 * cli: helpers shared by the ebb commands: messages, option scanning, job
 * ids, the socket path, the one request/reply path to ebbd and reading
 * fields of its replies.
 *
 * It prints only through struct cli's FILE pointers and reads the caller's
 * environment only through struct cli, never the process's own (but for
 * TZ: the C library reads it for local time).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timefmt.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "scheduler/cli/cli.h"
#include "scheduler/cli/client.h"

static void
vmessage(struct cli *c, const char *fmt, va_list ap)
{
	if (c->cmd != NULL)
		fprintf(c->err, "ebb %s: ", c->cmd->name);
	else
		fprintf(c->err, "ebb: ");
	if (c->where_file != NULL && c->where != NULL)
		fprintf(c->err, "%s:%s: ", c->where_file, c->where);
	vfprintf(c->err, fmt, ap);
	fputc('\n', c->err);
}

int
cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(c, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int
cli_fail(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(c, fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

int
cli_help(struct cli *c)
{
	fprintf(c->out, "usage: %s", c->cmd->usage);
	return CLI_OK;
}

int
cli_getopt(struct cli *c, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	const char *arg, *name = c->cmd ? c->cmd->name : NULL;
	int ch;

	opterr = 0;
	ch = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (ch != '?' && ch != ':')
		return ch;
	arg = argv[optind - 1];
	if (ch == ':') {
		if (optopt != 0 && strncmp(arg, "--", 2) != 0)
			cli_usage_error(c, "option '-%c' needs a value", optopt);
		else
			cli_usage_error(c, "option '%s' needs a value", arg);
	} else if (optopt != 0)
		cli_usage_error(c, "unknown option '-%c' (see ebb%s%s --help)",
		    optopt, name ? " " : "", name ? name : "");
	else
		cli_usage_error(c, "unknown option '%.*s' (see ebb%s%s --help)",
		    (int)strcspn(arg, "="), arg, name ? " " : "",
		    name ? name : "");
	return '?';
}

int
cli_parse_id(struct cli *c, const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v <= 0) {
		cli_usage_error(c, "bad job id '%s'", s);
		return -1;
	}
	*id = v;
	return 0;
}

const char *
cli_getenv(const struct cli *c, const char *name)
{
	size_t n = strlen(name);

	for (char **e = c->envp; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

char *
cli_socket_path(const struct cli *c)
{
	const char *env;

	if (c->socket != NULL)
		return xstrdup(c->socket);
	if ((env = cli_getenv(c, "EBB_SOCKET")) != NULL && *env != '\0')
		return xstrdup(env);
	return config_client_socket();
}

int
cli_call(struct cli *c, const char *cmd, json_t *args, json_t **result)
{
	char err[1024];
	char *path;

	*result = NULL;
	if (c->client == NULL) {
		path = cli_socket_path(c);
		c->client = client_connect(path, err, sizeof(err));
		free(path);
		if (c->client == NULL) {
			json_decref(args);
			fprintf(c->err, "ebb: %s\n", err);
			return CLI_FAIL;
		}
	}
	if ((*result = client_call(c->client, cmd, args, err,
	    sizeof(err))) != NULL)
		return CLI_OK;
	if (strcmp(client_code(c->client), "usage") == 0)
		return cli_usage_error(c, "%s", err);
	return cli_fail(c, "%s", err);
}

void
cli_print_json(struct cli *c, const json_t *v)
{
	json_dumpf(v, c->out, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', c->out);
}

int64_t
cli_get_int(const json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

const char *
cli_get_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL && *s != '\0' ? s : "-";
}

/* Times in tables: local unless `ebb --utc` (set by ebb_main per run). */
static int show_utc;

void
cli_set_utc(int utc)
{
	show_utc = utc;
}

char *
cli_strftime(int64_t t, const char *fmt, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if ((show_utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
	    strftime(buf, len, fmt, &tm) == 0) {
		if (len > 0)
			buf[0] = '\0';
	}
	return buf;
}

char *
cli_fmt_when(int64_t t, char *buf, size_t len)
{
	if (t <= 0)
		snprintf(buf, len, "-");
	else if (show_utc)
		ebb_fmt_time(t, buf, len);
	else
		ebb_fmt_local(t, buf, len);
	return buf;
}

void
cli_done(struct cli *c)
{
	client_close(c->client);
	c->client = NULL;
}
