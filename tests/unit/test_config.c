/*
 * test_config: ebb.yaml loading. Defaults, every key, relative paths, the
 * config_dump() round trip, all errors reported at once, the example config,
 * the golden error files in tests/golden/config (NAME.yaml -> NAME.err) and
 * duplicate site names among 30,000 sites found in linear time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/strbuf.h"
#include "common/xmalloc.h"
#include "config/config.h"
#include "testutil.h"

static void
test_default(void **state)
{
	struct ebb_config *c;

	setenv("XDG_STATE_HOME", "/srv/xdg", 1);
	c = config_default();
	assert_string_equal(c->path, "(default)");
	if (geteuid() == 0) {
		assert_string_equal(c->state_dir, "/var/lib/ebb");
		assert_string_equal(c->socket, "/run/ebb/ebbd.sock");
	} else {
		assert_string_equal(c->state_dir, "/srv/xdg/ebb");
		assert_string_equal(c->socket, "/srv/xdg/ebb/ebbd.sock");
	}
	assert_int_equal(c->socket_mode, 0660);
	assert_null(c->socket_group);
	assert_null(c->admin_group);
	assert_null(c->runner);
	assert_int_equal(c->kill_grace, 10);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_int_equal(c->nsites, 1);
	assert_string_equal(c->sites[0].name, "local");
	assert_string_equal(c->sites[0].backend, "local");
	assert_int_equal(c->sites[0].cpus, sysconf(_SC_NPROCESSORS_ONLN));
	assert_int_equal(c->sites[0].memory,
	    (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE));
	/* The bundled Germany trace, replayed onto the present. */
	assert_string_equal(c->sites[0].zone, "DE");
	assert_int_equal(c->sites[0].providers.n, 1);
	assert_string_equal(c->sites[0].providers.v[0], "trace");
	assert_non_null(strstr(c->sites[0].prov[PROV_TRACE].file,
	    "/traces/DE-LU_2023_hourly.csv"));
	assert_true(c->sites[0].prov[PROV_TRACE].replay);
	assert_string_equal(c->sites[0].prov[PROV_TRACE].value_column,
	    "Carbon Intensity gCO\xe2\x82\x82" "eq/kWh (LCA)");
	assert_int_equal(c->slot, 300);
	assert_int_equal(c->max_gap, 7200);
	assert_int_equal(c->metrics.port, 0);
	assert_int_equal(c->metrics.job_series, 500);
	assert_int_equal(c->metrics.job_linger, 600);
	assert_true(c->sites[0].pue == 1.0);
	assert_ptr_equal(config_site(c, "local"), &c->sites[0]);
	assert_null(config_site(c, "elsewhere"));
	unsetenv("XDG_STATE_HOME");
	config_free(c);
}

static void
test_every_key(void **state)
{
	char *path = tu_write_tmp("full.yaml",
	    "state_dir: state\n"
	    "socket: /run/ebb/x.sock\n"
	    "socket_group: ebb\n"
	    "socket_mode: 0600\n"
	    "admin_group: wheel\n"
	    "runner: ../bin/ebb-run\n"
	    "kill_grace: 1m30s\n"
	    "log_level: debug\n"
	    "metrics:\n"
	    "  address: ::1\n"
	    "  port: 9464\n"
	    "  job_series: 0\n"
	    "  job_linger: 1h\n"
	    "sites:\n"
	    "  - name: node-1.a_b\n"
	    "    backend: local\n"
	    "    cpus: 16\n"
	    "    memory: 64G\n"
	    "    zone: DE\n"
	    "    pue: 1.25\n"
	    "  - name: small\n");
	struct ebb_config *c;
	char *errs, *want;

	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_null(errs);
	assert_string_equal(c->path, path);
	want = xasprintf("%s/state", tu_tmpdir());
	assert_string_equal(c->state_dir, want);
	free(want);
	want = xasprintf("%s/../bin/ebb-run", tu_tmpdir());
	assert_string_equal(c->runner, want);
	free(want);
	assert_string_equal(c->socket, "/run/ebb/x.sock");
	assert_string_equal(c->socket_group, "ebb");
	assert_int_equal(c->socket_mode, 0600);
	assert_string_equal(c->admin_group, "wheel");
	assert_int_equal(c->kill_grace, 90);
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_string_equal(c->metrics.address, "::1");
	assert_int_equal(c->metrics.port, 9464);
	assert_int_equal(c->metrics.job_series, 0);
	assert_int_equal(c->metrics.job_linger, 3600);
	assert_int_equal(c->nsites, 2);
	assert_string_equal(c->sites[0].name, "node-1.a_b");
	assert_int_equal(c->sites[0].cpus, 16);
	assert_int_equal(c->sites[0].memory, INT64_C(64) << 30);
	assert_string_equal(c->sites[0].zone, "DE");
	assert_true(c->sites[0].pue == 1.25);
	/* The second site gets the machine defaults. */
	assert_string_equal(c->sites[1].backend, "local");
	assert_int_equal(c->sites[1].cpus, sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(c->sites[1].memory > 0);
	assert_true(c->sites[1].pue == 1.0);
	assert_ptr_equal(config_site(c, "small"), &c->sites[1]);
	config_free(c);
	free(path);
}

static void
test_socket_follows_state_dir(void **state)
{
	char *path = tu_write_tmp("sd.yaml", "state_dir: /srv/ebb\n");
	struct ebb_config *c;
	char *errs;

	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_string_equal(c->state_dir, "/srv/ebb");
	assert_string_equal(c->socket, geteuid() == 0 ?
	    "/run/ebb/ebbd.sock" : "/srv/ebb/ebbd.sock");
	config_free(c);
	free(path);
}

/* dump -> load -> dump gives the same text, and the same values. */
static void
round_trip(const struct ebb_config *c)
{
	char *text = config_dump(c), *text2, *errs, *path;
	struct ebb_config *c2;

	path = tu_write_tmp("dump.yaml", text);
	if (config_load(path, &c2, &errs) == -1)
		fail_msg("dump does not load:\n%s\n%s", text, errs);
	text2 = config_dump(c2);
	assert_string_equal(text, text2);
	assert_string_equal(c2->state_dir, c->state_dir);
	assert_int_equal(c2->socket_mode, c->socket_mode);
	assert_int_equal(c2->nsites, c->nsites);
	for (size_t i = 0; i < c->nsites; i++) {
		assert_string_equal(c2->sites[i].name, c->sites[i].name);
		assert_int_equal(c2->sites[i].memory, c->sites[i].memory);
		assert_true(c2->sites[i].pue == c->sites[i].pue);
	}
	config_free(c2);
	free(text);
	free(text2);
	free(path);
}

static void
test_dump_round_trip(void **state)
{
	struct ebb_config *c = config_default();
	char *path, *errs, *text;

	round_trip(c);
	text = config_dump(c);
	assert_non_null(strstr(text, "kill_grace: 10s\n"));
	assert_non_null(strstr(text, "socket_mode: \"0660\"\n"));
	assert_non_null(strstr(text, "socket_group: null\n"));
	assert_non_null(strstr(text, "log_level: info\n"));
	free(text);
	config_free(c);

	path = tu_write_tmp("odd.yaml",
	    "socket_group: \"null\"\n"
	    "admin_group: 'a: b'\n"
	    "kill_grace: 2h3m4s\n"
	    "log_level: error\n"
	    "socket_mode: 0007\n"
	    "sites:\n"
	    "  - {name: a, memory: 1000001, pue: 1.1, zone: \"US-CAL-CISO\"}\n"
	    "  - {name: b, memory: 1.5G, pue: 1.0000000000000002}\n");
	assert_int_equal(config_load(path, &c, &errs), 0);
	round_trip(c);
	text = config_dump(c);
	assert_non_null(strstr(text, "socket_group: \"null\"\n"));
	assert_non_null(strstr(text, "kill_grace: 2h3m4s\n"));
	assert_non_null(strstr(text, "memory: 1000001\n"));
	assert_non_null(strstr(text, "memory: 1536M\n"));
	assert_non_null(strstr(text, "pue: 1.1\n"));
	free(text);
	config_free(c);
	free(path);
}

/* planner.reserve: auto by default, a number or the word, and back. */
static void
test_reserve_auto(void **state)
{
	struct ebb_config *c = config_default();
	char *path, *errs, *text, *want;

	assert_true(c->planner.reserve == -1);
	text = config_dump(c);
	assert_non_null(strstr(text, "reserve: auto\n"));
	free(text);
	config_free(c);

	path = tu_write_tmp("r.yaml", "planner:\n  reserve: 0.5\n");
	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_true(c->planner.reserve == 0.5);
	round_trip(c);
	config_free(c);
	free(path);
	path = tu_write_tmp("r.yaml", "planner:\n  reserve: auto\n");
	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_true(c->planner.reserve == -1);
	config_free(c);
	free(path);
	path = tu_write_tmp("r.yaml", "planner:\n  reserve: often\n"
	    "  delay_swing: auto\n");
	assert_int_equal(config_load(path, &c, &errs), -1);
	want = xasprintf(
	    "%s:2:12: reserve: expected a number or 'auto', got 'often'\n"
	    "%s:3:16: delay_swing: expected a number, got 'auto'\n",
	    path, path);
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	free(path);
}

static void
test_all_errors_at_once(void **state)
{
	char *path = tu_write_tmp("bad.yaml",
	    "kill_grace: 6x\n"
	    "log_level: chatty\n"
	    "sites:\n"
	    "  - name: a\n"
	    "    cpus: -1\n");
	struct ebb_config *c = (struct ebb_config *)&c;
	char *errs, *want;

	assert_int_equal(config_load(path, &c, &errs), -1);
	assert_null(c);
	want = xasprintf(
	    "%s:1:13: kill_grace: bad duration '6x': unknown unit 'x' (use "
	    "s, m, h, d or w)\n"
	    "%s:2:12: log_level: 'chatty' is not one of error, warn, info, "
	    "debug\n"
	    "%s:5:11: cpus: must be between 1 and 1048576, got -1\n",
	    path, path, path);
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	free(path);
}

static void
test_missing_file(void **state)
{
	struct ebb_config *c;
	char *errs;

	assert_int_equal(config_load("/nonexistent/ebb.yaml", &c, &errs), -1);
	assert_string_equal(errs,
	    "/nonexistent/ebb.yaml: No such file or directory\n");
	free(errs);
}

static void
test_empty_file_is_defaults(void **state)
{
	char *path = tu_write_tmp("empty.yaml", "# nothing\n");
	struct ebb_config *c, *def = config_default();
	char *errs, *a, *b;

	assert_int_equal(config_load(path, &c, &errs), 0);
	a = config_dump(c);
	b = config_dump(def);
	assert_string_equal(a, b);
	free(a);
	free(b);
	config_free(c);
	config_free(def);
	free(path);
}

static void
test_example(void **state)
{
	char *path = xasprintf("%s/../examples/ebb.yaml", tu_data_dir());
	struct ebb_config *c;
	char *errs = NULL;

	if (config_load(path, &c, &errs) == -1)
		fail_msg("%s", errs);
	assert_true(c->nsites >= 1);
	round_trip(c);
	config_free(c);
	free(path);
}

static void
test_client_socket(void **state)
{
	char *xdg = xasprintf("%s/xdg", tu_tmpdir()), *dir, *sock, *got;
	FILE *f;

	setenv("XDG_STATE_HOME", xdg, 1);
	got = config_client_socket();
	assert_string_equal(got, "/run/ebb/ebbd.sock");
	free(got);
	dir = xasprintf("%s/ebb", xdg);
	sock = xasprintf("%s/ebbd.sock", dir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_non_null(f = fopen(sock, "w"));
	fclose(f);
	got = config_client_socket();
	assert_string_equal(got, geteuid() == 0 ? "/run/ebb/ebbd.sock" :
	    sock);
	free(got);
	unsetenv("XDG_STATE_HOME");
	free(xdg);
	free(dir);
	free(sock);
}

/*
 * export: off (and not written back) by default; its values, defaults
 * and the round trip when set.
 */
static void
test_export(void **state)
{
	struct ebb_config *c = config_default();
	char *path, *errs, *text;

	assert_null(c->export.url);
	assert_int_equal(c->export.batch, 100);
	assert_int_equal(c->export.interval, 60);
	assert_int_equal(c->export.timeout, 30);
	assert_int_equal(c->export.max_backoff, 300);
	text = config_dump(c);
	assert_null(strstr(text, "export:"));
	free(text);
	config_free(c);

	path = tu_write_tmp("export.yaml",
	    "export:\n"
	    "  url: https://carbon.example.org/v1/rows?team=hpc\n"
	    "  token_file: /etc/ebb/export.token\n"
	    "  ca_file: ca.pem\n"
	    "  batch: 500\n"
	    "  interval: 5m\n"
	    "sites:\n"
	    "  - name: a\n");
	assert_int_equal(config_load(path, &c, &errs), 0);
	assert_string_equal(c->export.url,
	    "https://carbon.example.org/v1/rows?team=hpc");
	assert_string_equal(c->export.token_file, "/etc/ebb/export.token");
	/* Relative to the file's directory. */
	assert_non_null(strstr(c->export.ca_file, "/ca.pem"));
	assert_true(c->export.ca_file[0] == '/');
	assert_int_equal(c->export.batch, 500);
	assert_int_equal(c->export.interval, 300);
	assert_int_equal(c->export.timeout, 30);
	round_trip(c);
	text = config_dump(c);
	assert_non_null(strstr(text, "export:\n  url: "
	    "https://carbon.example.org/v1/rows?team=hpc\n"));
	assert_non_null(strstr(text, "  max_backoff: 5m\n"));
	free(text);
	config_free(c);
	free(path);
}

/* A config_load() for tu_golden(). */
/*
 * 30,000 sites, two named again: both found, pointing at the first, in
 * time linear in practice (the pairwise check took minutes here).
 */
static void
test_many_sites(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct ebb_config *c;
	clock_t t0 = clock();
	char *path, *errs, *want;
	double cpu;

	strbuf_adds(&text, "sites:\n");
	for (int i = 0; i < 30000; i++)
		strbuf_addf(&text, "  - {name: s%05d, cpus: 1}\n", i);
	strbuf_adds(&text, "  - {name: s00003, cpus: 1}\n"
	    "  - {name: s29999, cpus: 1}\n");
	path = tu_write_tmp("many.yaml", strbuf_str(&text));
	assert_int_equal(config_load(path, &c, &errs), -1);
	want = xasprintf(
	    "%s:30002:12: duplicate site name 's00003' (first at line 5, "
	    "column 12)\n"
	    "%s:30003:12: duplicate site name 's29999' (first at line 30001, "
	    "column 12)\n", path, path);
	assert_string_equal(errs, want);
	free(want);
	free(errs);
	free(path);
	strbuf_free(&text);
	cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	print_message("30,000 sites: %.2f s of CPU\n", cpu);
	assert_true(cpu < 10);
}

static int
load_config(const char *path, char **errs)
{
	struct ebb_config *c;

	if (config_load(path, &c, errs) == -1)
		return -1;
	config_free(c);
	return 0;
}

static void
test_golden(void **state)
{
	int failed;

	assert_true(tu_golden("golden/config", load_config, &failed) >= 8);
	assert_int_equal(failed, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_socket_follows_state_dir),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_dump_round_trip),
		cmocka_unit_test(test_reserve_auto),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_file_is_defaults),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_client_socket),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_many_sites),
	};

	return cmocka_run_group_tests(tests, tu_setup, tu_teardown);
}
