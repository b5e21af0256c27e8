# Tests of the runner area.
ebb_unit_test(test_cgroup unit/test_cgroup.c ebb_runner)
ebb_unit_test(test_ebb_run unit/test_ebb_run.c ebb_runner)
ebb_unit_test(test_local_backend unit/test_local_backend.c ebb_runner)
ebb_script_test(it_slurm integration/it_slurm.sh)
ebb_script_test(it_slurm_recover integration/it_slurm_recover.sh)
ebb_script_test(it_slurm_multi integration/it_slurm_multi.sh)
ebb_unit_test(test_subproc unit/test_subproc.c ebb_runner)
ebb_script_test(it_slurm_gone integration/it_slurm_gone.sh)
