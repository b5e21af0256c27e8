# Tests of the runner area.
ebb_unit_test(test_cgroup unit/test_cgroup.c ebb_runner)
ebb_unit_test(test_ebb_run unit/test_ebb_run.c ebb_runner)
ebb_unit_test(test_local_backend unit/test_local_backend.c ebb_runner)
