#!/usr/bin/python3
"""
kepler-fixture: a Prometheus exporter that serves what Kepler and the
kubelet (cAdvisor) export for the containers of pods, from a control
file, for ebb's Kubernetes energy test (no Kepler or kubelet can run
without a cluster).

  kepler-fixture.py CONTROL

CONTROL holds one line per container: "KIND NAMESPACE POD RATE START
[END]" (epoch seconds). GET /metrics answers, in the Prometheus text
format, for KIND joules: kepler_container_joules_total{container_namespace,
pod_name, container_name="job", mode="dynamic"}, and for KIND cpu:
container_cpu_usage_seconds_total{namespace, pod, container="job"} (plus
the pod-level series with container="" that cAdvisor also exports, at
twice the value, which a reader must leave out) = RATE x (min(now, END) -
START), for each line whose START has passed, never less than a value
it served before (a counter; the END may be written a moment after a
later time was served); a container is gone (no series) two seconds
after its END, as they drop ended containers. The
first line on stdout is the port (127.0.0.1).
"""
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path != '/metrics':
            self.send_error(404)
            return
        now = time.time()
        out = ['# HELP kepler_container_joules_total Aggregated energy '
               'consumption of a container (joules)',
               '# TYPE kepler_container_joules_total counter']
        cpu = ['# HELP container_cpu_usage_seconds_total Cumulative cpu time '
               'consumed in seconds.',
               '# TYPE container_cpu_usage_seconds_total counter']
        try:
            lines = open(self.server.control).read().splitlines()
        except OSError:
            lines = []
        for ln in lines:
            f = ln.split()
            if len(f) < 5:
                continue
            kind, ns, pod, rate, start = f[0], f[1], f[2], float(f[3]), float(f[4])
            end = float(f[5]) if len(f) > 5 else None
            if now < start or (end is not None and now > end + 2):
                continue
            t = min(now, end) if end is not None else now
            # A counter never goes down: an END written a moment after
            # a value was served must not take that value back.
            key = (kind, ns, pod)
            t = max(t, self.server.served.get(key, t))
            self.server.served[key] = t
            if kind == 'cpu':
                cpu.append('container_cpu_usage_seconds_total{namespace="%s",'
                           'pod="%s",container="job"} %.3f'
                           % (ns, pod, rate * (t - start)))
                cpu.append('container_cpu_usage_seconds_total{namespace="%s",'
                           'pod="%s",container=""} %.3f'
                           % (ns, pod, 2 * rate * (t - start)))
            else:
                out.append('kepler_container_joules_total{container_namespace="%s",'
                           'pod_name="%s",container_name="job",mode="dynamic"} %.3f'
                           % (ns, pod, rate * (t - start)))
        data = ('\n'.join(out + cpu) + '\n').encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain; version=0.0.4')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
srv.control = sys.argv[1]
srv.served = {}
print(srv.server_address[1], flush=True)
srv.serve_forever()
