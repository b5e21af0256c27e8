# Tests of the config area.
ebb_unit_test(test_yamltree unit/test_yamltree.c ebb_config)
ebb_unit_test(test_config unit/test_config.c ebb_config)
ebb_unit_test(test_jobfile unit/test_jobfile.c ebb_config)
