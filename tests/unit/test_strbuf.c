/*
 * test_strbuf: appending bytes, strings, characters and printf output,
 * growth past the first capacity (with a format longer than the room
 * left), embedded NULs, and handing the text over.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/strbuf.h"

static void
test_empty(void **state)
{
	struct strbuf b = STRBUF_INIT;
	char *s;

	assert_string_equal(strbuf_str(&b), "");
	s = strbuf_take(&b);
	assert_string_equal(s, "");
	free(s);
	strbuf_free(&b);
	assert_null(b.s);
}

static void
test_append(void **state)
{
	struct strbuf b = STRBUF_INIT;
	char *s;

	strbuf_adds(&b, "ab");
	strbuf_addc(&b, 'c');
	strbuf_add(&b, "d\0e", 3);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.s, "abcd\0e", 7);
	strbuf_addf(&b, "-%d-%s", 42, "x");
	assert_int_equal(b.len, 11);
	assert_memory_equal(strbuf_str(&b), "abcd\0e-42-x", 12);
	s = strbuf_take(&b);
	assert_null(b.s);
	assert_int_equal(b.len, 0);
	assert_int_equal(s[11], '\0');
	free(s);
}

static void
test_growth(void **state)
{
	struct strbuf b = STRBUF_INIT;
	char big[1000];
	size_t caps = 0, last = 0;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_adds(&b, "head ");
	/* Longer than the room left: the format is run again. */
	strbuf_addf(&b, "%s|%d", big, 7);
	assert_int_equal(b.len, 5 + 999 + 2);
	assert_true(strncmp(b.s, "head xxx", 8) == 0);
	assert_string_equal(b.s + 5 + 999, "|7");
	/* 100k one-byte appends: the capacity doubles, a few dozen times. */
	for (size_t i = 0; i < 100000; i++) {
		strbuf_addc(&b, (char)('a' + i % 26));
		if (b.cap != last) {
			caps++;
			last = b.cap;
		}
	}
	assert_true(caps < 16);
	assert_int_equal(b.len, 1006 + 100000);
	assert_int_equal(b.s[b.len], '\0');
	assert_int_equal(b.s[1006 + 25], 'z');
	strbuf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
