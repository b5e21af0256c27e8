# Tests of the cli area.
ebb_unit_test(test_cli_submit unit/test_cli_submit.c ebb_cli)
ebb_unit_test(test_cli_format unit/test_cli_format.c ebb_cli)
ebb_unit_test(test_cli_main unit/test_cli_main.c ebb_cli)
ebb_unit_test(test_cli_client unit/test_cli_client.c ebb_cli)
ebb_unit_test(test_cli_carbon unit/test_cli_carbon.c ebb_cli)
