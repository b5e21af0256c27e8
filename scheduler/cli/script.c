/*
 * script: the directives of a batch script, read the way sbatch reads
 * them (see script.h).
 *
 * Lines are scanned from the top; blank lines and comments are skipped,
 * and the first other line ends the scan (as in sbatch, a directive after
 * the first command is an ordinary comment). "#EBB" lines take ebb
 * submit's own long options; "#SBATCH" lines the sbatch options that mean
 * the same thing, translated here by one table (sbatch's units included:
 * --mem without a unit is MB, --time is [D-]HH:MM:SS or minutes; cpus
 * are --ntasks times --cpus-per-task, as Slurm allocates them). Other
 * sbatch options are reported, not refused, so a script shared with Slurm
 * still submits. Words split at blanks; single or double quotes keep
 * blanks; a word starting with '#' starts a comment.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "scheduler/cli/script.h"

#define MAX_DIRECTIVES	256

/* What an sbatch option becomes. */
enum conv { C_SAME, C_MEM, C_TIME, C_CPT, C_NTASKS, C_NODES };

static const struct {
	const char	*lname;		/* sbatch's long name */
	char		 sname;		/* its short name, or 0 */
	const char	*ebb;		/* ebb submit's long option, or NULL:
					   ignored, saying why */
	enum conv	 conv;
	const char	*why;		/* why it is ignored */
} sbatch[] = {
	{ "job-name", 'J', "name", C_SAME, NULL },
	{ "cpus-per-task", 'c', "cpus", C_CPT, NULL },
	{ "ntasks", 'n', "cpus", C_NTASKS, NULL },
	{ "nodes", 'N', NULL, C_NODES, "ebb runs a job on one node" },
	{ "mem", 0, "mem", C_MEM, NULL },
	{ "time", 't', "duration", C_TIME, NULL },
	{ "deadline", 0, "deadline", C_SAME, NULL },
	{ "chdir", 'D', "workdir", C_SAME, NULL },
	{ "export", 0, "export", C_SAME, NULL },
	{ "begin", 'b', "begin", C_SAME, NULL },
	{ "output", 'o', "output", C_SAME, NULL },
	{ "error", 'e', "error", C_SAME, NULL },
	{ "gpus", 'G', "gpus", C_SAME, NULL },
};
#define NSBATCH	(sizeof(sbatch) / sizeof(sbatch[0]))

/*
 * sbatch's short options that take a value (sbatch(1)); the others (-H,
 * -I, -k, -O, -Q, -s, -v, -W, ...) are flags.
 */
static const char *const sbatch_valued = "AaBbCcDdeFGiJLMmNnopqSTtwx";

struct word {
	char	*s;
	int	 col;	/* 1-based */
};

/*
 * Splits line (of length len) from off into at most max words: their
 * count, or -1 with err (an open quote, too many words; words freed).
 */
static int
split(const char *line, size_t len, size_t off, struct word *w, size_t max,
    int lineno, char *err, size_t errlen)
{
	size_t i = off, n = 0;

	for (;;) {
		struct strbuf b = STRBUF_INIT;
		char q = 0;
		int col;

		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i >= len || line[i] == '#')
			return (int)n;
		col = (int)i + 1;
		if (n == max) {
			snprintf(err, errlen, "%d:%d: more than %zu words",
			    lineno, col, max);
			break;
		}
		for (; i < len && (q || !isspace((unsigned char)line[i]));
		    i++) {
			if (q && line[i] == q)
				q = 0;
			else if (!q && (line[i] == '"' || line[i] == '\''))
				q = line[i];
			else
				strbuf_addc(&b, line[i]);
		}
		if (q) {
			snprintf(err, errlen, "%d:%d: unterminated %c", lineno,
			    col, q);
			strbuf_free(&b);
			break;
		}
		w[n].col = col;
		w[n++].s = strbuf_take(&b);
	}
	while (n > 0)
		free(w[--n].s);
	return -1;
}

/* "[D-]HH:MM:SS", "MM:SS", "MM", "D-HH[:MM]" as seconds; -1 if bad. */
static long long
slurm_time(const char *s)
{
	long long f[3] = { 0, 0, 0 }, days = 0;
	const char *p = s, *dash = strchr(s, '-');
	int n = 0;

	if (dash != NULL) {
		char *end;

		days = strtoll(s, &end, 10);
		if (end != dash || end == s || days < 0 || days > 36500)
			return -1;
		p = dash + 1;
	}
	for (;;) {
		char *end;

		if (!isdigit((unsigned char)*p) || n == 3)
			return -1;
		f[n++] = strtoll(p, &end, 10);
		if (f[n - 1] > 1000000)
			return -1;
		p = end;
		if (*p == '\0')
			break;
		if (*p++ != ':')
			return -1;
	}
	if (dash != NULL)	/* D-HH, D-HH:MM, D-HH:MM:SS */
		return days * 86400 + f[0] * 3600 + f[1] * 60 + f[2];
	if (n == 1)		/* minutes */
		return f[0] * 60;
	if (n == 2)		/* MM:SS */
		return f[0] * 60 + f[1];
	return f[0] * 3600 + f[1] * 60 + f[2];
}

/* v converted from sbatch's form to ebb's, new string; NULL if bad. */
static char *
convert(enum conv conv, const char *v)
{
	long long secs;
	size_t n = strlen(v);

	switch (conv) {
	case C_MEM:
		/* sbatch: no unit is megabytes. */
		return n > 0 && isdigit((unsigned char)v[n - 1]) ?
		    xasprintf("%sM", v) : xstrdup(v);
	case C_TIME:
		if (strcmp(v, "UNLIMITED") == 0 || strcmp(v, "INFINITE") == 0)
			return xstrdup("");
		if ((secs = slurm_time(v)) <= 0)
			return NULL;
		return xasprintf("%llds", secs);
	case C_CPT:
	case C_NTASKS:
	case C_NODES: {
		char *end;
		long k = strtol(v, &end, 10);

		/* A node count may be a range: "1" and "1-1" are one node. */
		if (conv == C_NODES && *end == '-' && strtol(end + 1, &end,
		    10) != k)
			return xstrdup("many");
		if (!isdigit((unsigned char)*v) || *end != '\0' || k < 1 ||
		    k > 4096)
			return NULL;
		return xasprintf("%ld", k);
	}
	case C_SAME:
		break;
	}
	return xstrdup(v);
}

static void
add(struct script *sc, int line, int col, const char *opt, char *value,
    char *note)
{
	struct directive *d;

	sc->d = xrealloc(sc->d, (sc->n + 1) * sizeof(*sc->d));
	d = &sc->d[sc->n++];
	d->line = line;
	d->col = col;
	d->opt = opt != NULL ? xstrdup(opt) : NULL;
	d->value = value;
	d->note = note;
}

/*
 * One "#SBATCH" or "#EBB" line's words from w[0] (the option words only).
 * Returns 0, or -1 with err.
 */
static int
scan_line(struct script *sc, int sbatch_line, int line, struct word *w,
    size_t nw, char *err, size_t errlen)
{
	for (size_t i = 0; i < nw; i++) {
		const char *s = w[i].s, *eq = NULL;
		char *name, *value = NULL;
		int col = w[i].col, valued;
		size_t k;

		if (s[0] != '-' || s[1] == '\0') {
			snprintf(err, errlen, "%d:%d: expected an option, got "
			    "'%s'", line, col, s);
			return -1;
		}
		if (s[1] == '-') {
			eq = strchr(s + 2, '=');
			name = eq ? xstrndup(s + 2, (size_t)(eq - s - 2)) :
			    xstrdup(s + 2);
			if (eq != NULL)
				value = xstrdup(eq + 1);
		} else if (sbatch_line) {
			name = xstrndup(s + 1, 1);
			if (s[2] != '\0')
				value = xstrdup(s + 2);
		} else {
			snprintf(err, errlen, "%d:%d: #EBB takes long options "
			    "(--name VALUE), got '%s'", line, col, s);
			return -1;
		}
		if (!sbatch_line) {
			/* The caller knows ebb's options and their values. */
			if (value == NULL && i + 1 < nw && w[i + 1].s[0] != '-')
				value = xstrdup(w[++i].s);
			add(sc, line, col, name, value, NULL);
			free(name);
			continue;
		}
		for (k = 0; k < NSBATCH; k++)
			if (strlen(name) == 1 ? sbatch[k].sname == name[0] :
			    strcmp(sbatch[k].lname, name) == 0)
				break;
		valued = k < NSBATCH || (strlen(name) == 1 &&
		    strchr(sbatch_valued, name[0]) != NULL) ||
		    (strlen(name) > 1 && eq == NULL && i + 1 < nw &&
		    w[i + 1].s[0] != '-');
		if (value == NULL && valued && i + 1 < nw)
			value = xstrdup(w[++i].s);
		if (k < NSBATCH && sbatch[k].conv == C_NODES && value &&
		    strcmp(value, "1") == 0) {
			free(value);		/* one node: what ebb does */
		} else if (k == NSBATCH || sbatch[k].ebb == NULL) {
			add(sc, line, col, NULL, NULL, xasprintf("ignoring "
			    "#SBATCH %s%s (%s)", strlen(name) == 1 ? "-" : "--",
			    name, k < NSBATCH ? sbatch[k].why : "ebb has no such "
			    "setting; it picks sites and partitions itself"));
			free(value);
		} else if (value == NULL) {
			snprintf(err, errlen, "%d:%d: #SBATCH %s needs a value",
			    line, col, s);
			free(name);
			return -1;
		} else {
			char *v = convert(sbatch[k].conv, value);

			if (v == NULL) {
				snprintf(err, errlen, "%d:%d: #SBATCH --%s: bad "
				    "value '%s'", line, col, sbatch[k].lname,
				    value);
				free(value);
				free(name);
				return -1;
			}
			free(value);
			if (sbatch[k].conv == C_CPT || sbatch[k].conv ==
			    C_NTASKS) {
				/* cpus = ntasks x cpus-per-task, at the end */
				*(sbatch[k].conv == C_CPT ? &sc->cpt :
				    &sc->ntasks) = strtol(v, NULL, 10);
				sc->cline = line;
				sc->ccol = col;
				free(v);
			} else if (*v == '\0')
				free(v);	/* --time=UNLIMITED: no estimate */
			else
				add(sc, line, col, sbatch[k].ebb, v, NULL);
		}
		free(name);
	}
	return 0;
}

int
script_scan(const char *text, size_t len, struct script *sc, char *err,
    size_t errlen)
{
	size_t pos = 0;
	int line = 0, rc = 0;

	memset(sc, 0, sizeof(*sc));
	while (pos < len && rc == 0) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos, off, i = 0;
		struct word w[64];
		int nw, sb;

		pos += ll + 1;
		line++;
		while (i < ll && isspace((unsigned char)l[i]))
			i++;
		if (i == ll)
			continue;		/* blank */
		if (l[i] != '#')
			break;			/* the first command */
		/* As in sbatch, a directive starts its line. */
		if (i == 0 && ll >= 7 && strncmp(l, "#SBATCH", 7) == 0 &&
		    (ll == 7 || isspace((unsigned char)l[7])))
			sb = 1, off = 7;
		else if (i == 0 && ll >= 4 && strncmp(l, "#EBB", 4) == 0 &&
		    (ll == 4 || isspace((unsigned char)l[4])))
			sb = 0, off = 4;
		else
			continue;		/* a comment */
		if ((nw = split(l, ll, off, w, sizeof(w) / sizeof(w[0]), line,
		    err, errlen)) == -1) {
			rc = -1;
			break;
		}
		rc = scan_line(sc, sb, line, w, (size_t)nw, err, errlen);
		for (int k = 0; k < nw; k++)
			free(w[k].s);
		if (rc == 0 && sc->n > MAX_DIRECTIVES) {
			snprintf(err, errlen, "%d: more than %d directives",
			    line, MAX_DIRECTIVES);
			rc = -1;
		}
	}
	if (rc == 0 && (sc->ntasks > 0 || sc->cpt > 0)) {
		long cpus = (sc->ntasks > 0 ? sc->ntasks : 1) *
		    (sc->cpt > 0 ? sc->cpt : 1);

		add(sc, sc->cline, sc->ccol, "cpus", xasprintf("%ld", cpus),
		    NULL);
	}
	if (rc == -1)
		script_free(sc);
	return rc;
}

void
script_free(struct script *sc)
{
	for (size_t i = 0; i < sc->n; i++) {
		free(sc->d[i].opt);
		free(sc->d[i].value);
		free(sc->d[i].note);
	}
	free(sc->d);
	memset(sc, 0, sizeof(*sc));
}
