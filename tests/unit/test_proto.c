/*
 * test_proto: frame sizes, encode/decode, blocking send/recv over a
 * socketpair, and base64 used for log chunks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/b64.h"
#include "common/proto.h"

static void
test_frame_size(void **state)
{
	unsigned char b[8] = { 0, 0, 0, 3, '{', '}', ' ', 0 };
	size_t frame;
	char err[128];

	assert_int_equal(proto_frame_size(b, 2, 100, &frame, err,
	    sizeof(err)), 0);
	assert_int_equal(frame, 0);
	assert_int_equal(proto_frame_size(b, 6, 100, &frame, err,
	    sizeof(err)), 0);
	assert_int_equal(frame, 0);
	assert_int_equal(proto_frame_size(b, 7, 100, &frame, err,
	    sizeof(err)), 0);
	assert_int_equal(frame, 7);
	b[0] = 0x7f;
	assert_int_equal(proto_frame_size(b, 4, 100, &frame, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "frame of 2130706435 bytes exceeds the limit "
	    "of 100 bytes");
	memset(b, 0, 4);
	assert_int_equal(proto_frame_size(b, 4, 100, &frame, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "empty frame");
}

static void
test_roundtrip(void **state)
{
	int sv[2];
	char err[128];
	json_t *m = json_pack("{s:i, s:s, s:{s:[s, s]}}", "v", 1, "cmd",
	    "submit", "args", "argv", "echo", "h\xc3\xa9");
	json_t *r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(proto_send(sv[0], m, err, sizeof(err)), 0);
	r = proto_recv(sv[1], err, sizeof(err));
	assert_non_null(r);
	assert_true(json_equal(m, r));
	json_decref(r);
	close(sv[0]);
	r = proto_recv(sv[1], err, sizeof(err));
	assert_null(r);
	assert_string_equal(err, "connection closed by ebbd");
	close(sv[1]);
	json_decref(m);
}

static void
test_decode_errors(void **state)
{
	char err[128];

	assert_null(proto_decode((const unsigned char *)"[1]", 3, err,
	    sizeof(err)));
	assert_string_equal(err, "message is not a JSON object");
	assert_null(proto_decode((const unsigned char *)"{\"a\":", 5, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "malformed JSON"));
	assert_null(proto_decode((const unsigned char *)"{\"a\":1,\"a\":2}",
	    13, err, sizeof(err)));
}

static void
test_b64(void **state)
{
	static const char *const cases[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foobar", "Zm9vYmFy" },
	};
	unsigned char bin[256];
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = b64_encode(cases[i][0], strlen(cases[i][0]));
		unsigned char *d;

		assert_string_equal(e, cases[i][1]);
		d = b64_decode(e, &len);
		assert_non_null(d);
		assert_int_equal(len, strlen(cases[i][0]));
		assert_memory_equal(d, cases[i][0], len);
		free(d);
		free(e);
	}
	for (int i = 0; i < 256; i++)
		bin[i] = (unsigned char)i;
	{
		char *e = b64_encode(bin, sizeof(bin));
		unsigned char *d = b64_decode(e, &len);

		assert_int_equal(len, sizeof(bin));
		assert_memory_equal(d, bin, len);
		free(d);
		free(e);
	}
	assert_null(b64_decode("Zm9", &len));
	assert_null(b64_decode("Zm=v", &len));
	assert_null(b64_decode("Zm9*", &len));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_size),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_b64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
