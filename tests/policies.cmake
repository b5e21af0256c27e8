# Tests of the policies area.
ebb_unit_test(test_policy unit/test_policy.c ebb_policy)
ebb_unit_test(test_cli_policy unit/test_cli_policy.c ebb_cli)
