#!/usr/bin/python3
"""
kepler-fixture: a Prometheus exporter that serves what Kepler exports for
the containers of pods, from a control file, for ebb's Kubernetes energy
test (no Kepler can run without a cluster and RAPL).

  kepler-fixture.py CONTROL

CONTROL holds one line per container: "NAMESPACE POD WATTS START [END]"
(epoch seconds). GET /metrics answers, in the Prometheus text format,
kepler_container_joules_total{container_namespace, pod_name,
container_name="job", mode="dynamic"} = WATTS x (min(now, END) - START)
for each line whose START has passed; a container is gone (no series) two
seconds after its END, as Kepler drops ended containers. The first line on
stdout is the port (127.0.0.1).
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
        try:
            lines = open(self.server.control).read().splitlines()
        except OSError:
            lines = []
        for ln in lines:
            f = ln.split()
            if len(f) < 4:
                continue
            ns, pod, watts, start = f[0], f[1], float(f[2]), float(f[3])
            end = float(f[4]) if len(f) > 4 else None
            if now < start or (end is not None and now > end + 2):
                continue
            t = min(now, end) if end is not None else now
            out.append('kepler_container_joules_total{container_namespace="%s",'
                       'pod_name="%s",container_name="job",mode="dynamic"} %.3f'
                       % (ns, pod, watts * (t - start)))
        data = ('\n'.join(out) + '\n').encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain; version=0.0.4')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


srv = ThreadingHTTPServer(('127.0.0.1', 0), H)
srv.control = sys.argv[1]
print(srv.server_address[1], flush=True)
srv.serve_forever()
