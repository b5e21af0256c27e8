/*
 * rawsend: sends stdin's bytes, unchanged, to a Unix socket and prints each
 * reply frame's JSON on its own line until the peer closes or 2 s pass.
 * Lets integration tests feed ebbd garbage and oversized frames.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static unsigned char in[8 << 20], out[1 << 20];
	size_t n = 0, have = 0;
	ssize_t r;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: rawsend SOCKET < bytes\n");
		return 2;
	}
	while ((r = read(0, in + n, sizeof(in) - n)) > 0)
		n += (size_t)r;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("connect");
		return 1;
	}
	/* The daemon may close early on a bad header; ignore EPIPE. */
	{
		size_t off = 0;
		struct pollfd p = { .fd = fd, .events = POLLOUT };

		while (off < n && poll(&p, 1, 2000) > 0 &&
		    (r = send(fd, in + off, n - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)r;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 2000) <= 0)
			break;
		if ((r = read(fd, out + have, sizeof(out) - have)) <= 0)
			break;
		have += (size_t)r;
		while (have >= 4) {
			size_t len = (size_t)out[0] << 24 | (size_t)out[1] << 16 |
			    (size_t)out[2] << 8 | out[3];

			if (have < 4 + len)
				break;
			fwrite(out + 4, 1, len, stdout);
			putchar('\n');
			memmove(out, out + 4 + len, have - 4 - len);
			have -= 4 + len;
		}
	}
	close(fd);
	return 0;
}
