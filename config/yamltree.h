/*
 * yamltree: YAML files as small trees with positions, and a table-driven
 * decoder from those trees into C structs.
 *
 * yt_load() runs libyaml's event parser and builds a tree of scalars,
 * sequences and mappings; every node keeps its 1-based line and column.
 * yt_decode() walks a mapping against a table of keys (one row per key:
 * name, type, bounds, where to store it, one line of doc) and stores typed
 * values into a struct. Errors never stop the walk: each one is recorded on
 * the document as "file:line:col: message" and yt_errors() returns them all,
 * sorted by position. The module knows nothing of ebb.yaml or job files;
 * config.c, jobfile.c and policy files are tables plus small checks.
 *
 * Not supported (reported as errors): aliases, more than one document,
 * non-scalar mapping keys, duplicate keys.
 */
#ifndef EBB_YAMLTREE_H
#define EBB_YAMLTREE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum yt_kind { YT_SCALAR, YT_SEQ, YT_MAP };

/*
 * A node of the tree, owned by its document. A scalar has `text` (never
 * NULL); a sequence has `nkids` items in `kids`; a mapping has `nkids`
 * pairs, key kids[2i] and value kids[2i+1] (keys are scalars).
 */
struct yt_node {
	enum yt_kind	  kind;
	int		  line, col;	/* 1-based */
	char		 *text;		/* scalar text */
	int		  plain;	/* scalar written without quotes */
	struct yt_node	**kids;
	size_t		  nkids;
};

/* Value types a key table row can describe; the comment says the C type. */
enum yt_type {
	YT_STRING,	/* char * */
	YT_PATH,	/* char *, relative paths resolved against the file */
	YT_INT,		/* int */
	YT_INT64,	/* int64_t */
	YT_FLOAT,	/* double */
	YT_BOOL,	/* int, 0 or 1 */
	YT_DURATION,	/* int64_t seconds ("90m", "1h30m") */
	YT_SIZE,	/* int64_t bytes ("512M", "4G") */
	YT_TIME,	/* int64_t epoch s (ISO-8601 or now+DURATION) */
	YT_ENUM,	/* int: index into `choices` */
	YT_MODE,	/* mode_t, octal text like "0660" */
	YT_STRLIST,	/* struct yt_strlist */
	YT_STRMAP,	/* struct yt_strmap (mapping of string to string) */
	YT_MAPLIST,	/* array of structs of `elemsize` at offset, size_t
			   count at `count_offset`; each element decoded by
			   `sub` after `init` */
	YT_STRUCT,	/* a nested struct at offset, decoded by `sub` */
};

struct yt_strlist {
	char	**v;
	size_t	  n;
};

/* The list as a JSON array of strings (new reference). */
json_t	*yt_strlist_json(const struct yt_strlist *);

struct yt_strmap {
	char	**keys;
	char	**values;
	size_t	  n;
};

struct yt_doc;

/*
 * One row of a key table; a table ends with a row whose name is NULL.
 * A null value (empty, ~, null) counts as absent, except that a required
 * key must have a value. Bounds apply when min < max (YT_INT, YT_INT64, YT_DURATION, YT_SIZE) or
 * fmin < fmax (YT_FLOAT). A YT_FLOAT with a `word` also takes that word,
 * stored as `wordval` (outside fmin..fmax) and written back as the word.
 * `check`, if set, runs after a value was stored and returns -1 with a
 * message (without the key name) in err.
 */
struct yt_key {
	const char		 *name;
	enum yt_type		  type;
	int			  required;
	int64_t			  min, max;
	double			  fmin, fmax;
	const char		 *word;		/* YT_FLOAT: also this word */
	double			  wordval;	/* ... stored as this */
	const char *const	 *choices;	/* YT_ENUM, NULL-terminated */
	size_t			  offset;
	const struct yt_key	 *sub;		/* YT_MAPLIST, YT_STRUCT */
	size_t			  elemsize;	/* YT_MAPLIST */
	size_t			  count_offset;	/* YT_MAPLIST */
	void			(*init)(void *elem);	/* YT_MAPLIST */
	int			(*check)(const void *field, char *err,
				    size_t errlen);
	/* yt_emit: write this row only if present(obj) (NULL: always). */
	int			(*present)(const void *obj);
	const char		 *doc;
};

/*
 * Parse path. Never returns NULL: a file that cannot be read or parsed
 * gives a document without a root and with the errors recorded. The file
 * name in messages is `path` as given. Free with yt_free().
 */
struct yt_doc	*yt_load(const char *path);
/* The same for text in memory; `name` is used in messages. */
struct yt_doc	*yt_load_string(const char *name, const char *text,
		    size_t len);
void		 yt_free(struct yt_doc *);

/* The root node, or NULL for an empty or unparsable document. */
const struct yt_node *yt_root(const struct yt_doc *);
/* The file name as given. */
const char	*yt_name(const struct yt_doc *);
/* The absolute directory relative paths are resolved against. */
const char	*yt_dir(const struct yt_doc *);
/* The time YT_TIME values are relative to (default: ebb_now()). */
void		 yt_set_now(struct yt_doc *, int64_t now);

/*
 * Record an error at node `at` (NULL: line 1, column 1). Messages are
 * printf-style without a trailing newline.
 */
void		 yt_error(struct yt_doc *, const struct yt_node *at,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* How many errors were recorded (all of them, shown or not). */
size_t		 yt_nerrors(const struct yt_doc *);
/*
 * The first 100 errors by position, one "file:line:col: message\n" line
 * each, sorted, then "file: ... and N more errors\n" if there were more
 * (caller frees); "" if there are none. Recording an error costs
 * O(log 100) and memory for at most 100 messages, whatever the file.
 */
char		*yt_errors(const struct yt_doc *);
/*
 * Records "duplicate WHAT 'text' (first at line L, column C)" at every
 * scalar among nodes[0..n) whose text an earlier one has; NULL and
 * non-scalar entries are skipped. O(n log n).
 */
void		 yt_check_unique(struct yt_doc *,
		    const struct yt_node *const *nodes, size_t n,
		    const char *what);

/* The value under key in mapping map, or NULL (also if map is not one). */
const struct yt_node *yt_get(const struct yt_node *map, const char *key);
/* The key node of key in map, or NULL. */
const struct yt_node *yt_get_key(const struct yt_node *map, const char *key);
/* 1 for a null scalar (empty, ~, null written without quotes). */
int		 yt_is_null(const struct yt_node *);

/*
 * Decode mapping `map` (NULL: an empty mapping) into obj by table. Reports
 * unknown keys, wrong types, bad values and missing required keys; returns
 * the number of errors it recorded. Fields of absent keys are untouched.
 */
size_t		 yt_decode(struct yt_doc *, const struct yt_node *map,
		    const struct yt_key *table, void *obj);
/*
 * The inverse of yt_decode(): obj as YAML text that yt_decode() reads back
 * to the same values, every row in table order, unset strings as null
 * (caller frees).
 */
char		*yt_emit(const struct yt_key *table, const void *obj);
/* Free what yt_decode() allocated into obj (strings, lists, arrays). */
void		 yt_free_fields(const struct yt_key *table, void *obj);

#endif
