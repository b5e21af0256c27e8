# Tests of the Kubernetes integration (runner/kube, issue 12). No API
# server can run on the test machines: tests/helpers/kube-fake.py stands
# in for one, and it_kubefake checks it with kubectl.
ebb_unit_test(test_kubeconf unit/test_kubeconf.c ebb_runner)
ebb_script_test(it_kubefake integration/it_kubefake.sh)
ebb_script_test(it_kube integration/it_kube.sh)
ebb_script_test(it_kube_energy integration/it_kube_energy.sh)
