/*
 * fuzz_privmsg: the privilege-separation messages as the privileged
 * parent (and the worker) read them: the first input byte says how many
 * descriptors (0..3, /dev/null) arrived beside the packet, as SCM_RIGHTS
 * would deliver them; the rest is the packet, taken as pmsg_recv does
 * (pmsg_parse) and then checked and read by privmsg_decode. Every
 * descriptor must be closed again by privmsg_release and pmsg_free (the
 * harness checks that the next open gets the same number).
 */
#include <fcntl.h>
#include <unistd.h>

#include "runner/pmsg.h"
#include "runner/privproto.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct privmsg pm;
	struct pmsg m;
	char err[256];
	int nfd, first = -1, probe;

	if (size < 1)
		return 0;
	pmsg_clear(&m);
	nfd = data[0] % (PMSG_MAXFD + 1);
	for (int i = 0; i < nfd; i++) {
		if ((m.fd[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			fuzz_fail("cannot open /dev/null");
		if (first == -1)
			first = m.fd[i];
	}
	m.nfd = nfd;
	privmsg_clear(&pm);
	if (pmsg_parse(&m, data + 1, size - 1, err, sizeof(err)) == 0)
		privmsg_decode(&m, &pm, err, sizeof(err));
	privmsg_release(&pm);
	pmsg_free(&m);
	if (first != -1) {
		if ((probe = open("/dev/null", O_RDONLY | O_CLOEXEC)) != first)
			fuzz_fail("a descriptor was left open");
		close(probe);
	}
	return 0;
}
