#!/usr/bin/python3
"""
export-sink: a loopback receiver of ebb's ledger export (docs/export.md)
that can fail, hang and restart, for it_export.sh.

  export-sink.py DIR PORT [CERT KEY]

Listens on 127.0.0.1:PORT (with TLS when given a PEM certificate and
key) and answers each POST as DIR/mode says. That
file holds one mode per line; a request uses the first line and removes
it when more lines follow (the last line stays). Modes:

  ok         store the rows, answer 200
  fail500    answer 500, store nothing
  hang       store nothing and never answer
  storehang  store the rows, then never answer (an acknowledgement lost)
  redirect   answer 307 to another path, store nothing
  huge       answer 200 with a 16 MiB body, store nothing
  max1       answer 413 to a batch of more than one row, else as ok

With DIR/token present, a request without "Authorization: Bearer
<token>" gets 401. Each stored row is a line of DIR/rows.jsonl (the row
as sent plus "batch": the request number); each request a line of
DIR/requests.log: "N MODE ROWS FIRST-LAST" (seq numbers). State is in
the files, so a restarted sink goes on where the last one stopped.
"""
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def next_mode(d):
    path = os.path.join(d, 'mode')
    try:
        lines = [l.strip() for l in open(path) if l.strip()]
    except OSError:
        lines = []
    if not lines:
        return 'ok'
    if len(lines) > 1:
        with open(path + '.tmp', 'w') as f:
            f.write('\n'.join(lines[1:]) + '\n')
        os.replace(path + '.tmp', path)
    return lines[0]


class H(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def answer(self, code, body=b'{}', extra=()):
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        d = self.server.dir
        n = int(self.headers.get('Content-Length', '0'))
        data = self.rfile.read(n)
        tokf = os.path.join(d, 'token')
        if os.path.exists(tokf):
            want = 'Bearer ' + open(tokf).read().strip()
            if self.headers.get('Authorization') != want:
                with LOCK:
                    with open(os.path.join(d, 'requests.log'), 'a') as f:
                        f.write('0 unauthorized 0 0-0\n')
                self.answer(401)
                return
        try:
            doc = json.loads(data)
            rows = doc['rows']
            assert doc['source'] == 'ebb' and doc['version'] == 1
            assert all(isinstance(r['key'], str) for r in rows)
        except (ValueError, KeyError, TypeError, AssertionError):
            self.answer(400, b'{"error": "bad document"}')
            return
        with LOCK:
            mode = next_mode(d)
            logf = os.path.join(d, 'requests.log')
            try:
                num = sum(1 for _ in open(logf)) + 1
            except OSError:
                num = 1
            seqs = [r['seq'] for r in rows] or [0]
            store = mode in ('ok', 'storehang') or \
                (mode == 'max1' and len(rows) <= 1)
            if store:
                with open(os.path.join(d, 'rows.jsonl'), 'a') as f:
                    for r in rows:
                        r['batch'] = num
                        f.write(json.dumps(r) + '\n')
            with open(logf, 'a') as f:
                f.write('%d %s %d %d-%d\n' % (num, mode, len(rows),
                                              seqs[0], seqs[-1]))
        if mode in ('hang', 'storehang'):
            time.sleep(3600)
        elif mode == 'fail500':
            self.answer(500, b'{"error": "down"}')
        elif mode == 'redirect':
            self.answer(307, extra=[('Location', '/elsewhere')])
        elif mode == 'huge':
            self.answer(200, b' ' * (16 << 20))
        elif mode == 'max1' and len(rows) > 1:
            self.answer(413, b'{"error": "too many rows"}')
        else:
            self.answer(200, b'{"ok": true}')


def main():
    d, port = sys.argv[1], int(sys.argv[2])
    srv = ThreadingHTTPServer(('127.0.0.1', port), H)
    if len(sys.argv) > 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.daemon_threads = True
    srv.dir = d
    print('listening', flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
