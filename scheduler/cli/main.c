/*
 * main: the ebb program's entry point.
 *
 * Fills struct cli from the process (stdout, stderr, environment, working
 * directory, clock) and hands over to ebb_main(); everything else lives in
 * the library the tests link too.
 */
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "common/timefmt.h"
#include "scheduler/cli/cli.h"

extern char **environ;

int
main(int argc, char **argv)
{
	struct cli c = { 0 };
	char cwd[PATH_MAX];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	c.out = stdout;
	c.err = stderr;
	c.envp = environ;
	c.cwd = getcwd(cwd, sizeof(cwd));
	c.now = ebb_now();
	rc = ebb_main(&c, argc, argv);
	cli_done(&c);
	if (fflush(stdout) == EOF && rc == CLI_OK)
		rc = CLI_FAIL;
	return rc;
}
