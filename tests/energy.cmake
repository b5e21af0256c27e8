# Tests of the energy area: node energy sources and attribution to jobs.
ebb_unit_test(test_energy unit/test_energy.c ebb_energy)
ebb_unit_test(test_attrib unit/test_attrib.c ebb_attrib)
ebb_unit_test(test_attrib_cgroup unit/test_attrib_cgroup.c ebb_attrib ebb_runner)
ebb_script_test(it_energy integration/it_energy.sh)
ebb_script_test(it_energy_truth integration/it_energy_truth.sh)
