/*
 * script: reads the directives at the top of a batch script, as sbatch
 * does: "#EBB --max-delay 6h" lines with ebb submit's long options, and
 * "#SBATCH --time=1:00:00" lines with the sbatch options ebb shares,
 * translated to ebb's (docs/ebb.1.md, submit, lists them). It only scans
 * text; cmd_submit.c applies what it finds, the command line overriding.
 */
#ifndef EBB_SCRIPT_H
#define EBB_SCRIPT_H

#include <stddef.h>

struct directive {
	int	 line, col;	/* 1-based, of the option word */
	char	*opt;		/* ebb submit's long option name, or NULL for
				   a note only */
	char	*value;		/* its value, or NULL if none was written */
	char	*note;		/* a warning to print (an ignored #SBATCH
				   option), or NULL */
};

struct script {
	struct directive *d;
	size_t		  n;
	/* While scanning: #SBATCH --ntasks and --cpus-per-task, and where
	 * the last of them was (the cpus directive they make). */
	long		  ntasks, cpt;
	int		  cline, ccol;
};

/*
 * Scans text[0..len) (a script; need not be NUL-terminated) up to its
 * first command. Returns 0 with the directives in order, or -1 with
 * "LINE:COL: reason" in err (nothing to free then).
 */
int	script_scan(const char *text, size_t len, struct script *, char *err,
	    size_t errlen);
void	script_free(struct script *);

#endif
