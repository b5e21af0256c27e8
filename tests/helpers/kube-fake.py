#!/usr/bin/python3
"""
kube-fake: a local stand-in for a Kubernetes API server, for ebb's
Kubernetes tests (no real API server can run on the test machines).

It serves the part of the API that ebb's kubernetes backend and kubectl use
for batch/v1 Jobs, and enforces what they rely on:

  - TLS (a server certificate from the test CA) and authentication: a
    bearer token (--token) or a client certificate signed by the CA;
    anything else is 401 with a Status body.
  - discovery (/version, /api, /api/v1, /apis, /apis/batch/v1) so that
    kubectl works against it; /openapi/v2 serves --openapi when given.
  - jobs: create (POST), get, list (labelSelector, fieldSelector
    metadata.name, limit and continue: pages of one snapshot, a continue
    token older than the kept history is 410 Expired; --max-page caps a
    page whatever limit asks, as a server may), patch, delete
    (propagationPolicy), watch.
  - every body it receives is validated: a created Job, and every Job a
    patch produces, against the strict batch/v1 Job JSON schema
    (--schema), plus the server-side rules the schema cannot say
    (DNS-1123 names, label and annotation syntax and sizes, immutable
    spec.template once the Job has started): 422 Invalid.
  - PATCH: application/merge-patch+json (RFC 7386),
    application/strategic-merge-patch+json (applied as a merge patch: the
    fields ebb and the tests patch hold no lists), application/json-patch+json
    (RFC 6902 add/remove/replace/test); any other type is 415.
    metadata.resourceVersion in a patch that differs from the object's is
    409 Conflict (optimistic concurrency), as on a real server.
  - resourceVersion: one counter for the whole server, an opaque decimal
    string; lists carry it in metadata.resourceVersion.
  - watch (?watch=1 or =true): 200, chunked, one JSON event per line
    {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}. From a
    resourceVersion older than the kept history (--history events, or all
    before POST /fake/compact), an ERROR event carrying a 410 Expired Status
    inside the 200 stream, as a real server sends it. Without
    resourceVersion (or "0"), ADDED events for what exists first.
    timeoutSeconds ends the stream.
  - the Job controller's visible part: a Job created or patched with
    spec.suspend true gets condition Suspended=True; released, it gets
    Suspended=False, status.startTime, status.active 1 and status.ready 1
    (0 for an image from a .invalid registry: a pod that never pulls).

What a kubelet would do is driven by the tests through /fake/ endpoints
(same authentication): POST /fake/complete/NS/NAME and /fake/fail/NS/NAME
end a started Job (conditions Complete or Failed, with SuccessCriteriaMet or
FailureTarget first, as 1.31+ sets them); /fake/complete-at-start/NS/NAME
completes it with its completionTime its startTime (a Job shorter than the
API's one-second stamps); POST /fake/compact forgets the
event history (watches in progress and from any version given out before
get 410, as after a compaction with a restarted watch cache); POST
/fake/drop-next-create makes the next create succeed but
closes the connection without an answer (a response lost on the way);
POST /fake/race-next-patch/NS/NAME makes another client change that Job
just before the next patch of it that carries a resourceVersion (so that
patch gets its 409); POST /fake/down/SECS answers 503 to everything else for SECS seconds;
GET /fake/log returns one JSON line per API request (method, path, query,
content type, the resourceVersion a patch carried, auth method, status).

State is kept in --state FILE (JSON, rewritten after every change) when
given, so a test can kill and restart the server without losing Jobs.
The first line on stdout is the port it listens on (127.0.0.1).
"""

import argparse
import base64
import copy
import datetime
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jsonschema

DNS1123_SUB = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
DNS1123_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
QNAME = re.compile(r'^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$')
LABEL_VALUE = re.compile(r'^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$')
MAX_BODY = 3 * 1024 * 1024          # the API server's request size limit
MAX_ANNOTATIONS = 256 * 1024        # total size of a Job's annotations


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')


def status(code, reason, message, details=None):
    s = {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
         'status': 'Failure' if code >= 300 else 'Success',
         'message': message, 'reason': reason, 'code': code}
    if details is not None:
        s['details'] = details
    return s


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.body = status(code, reason, message, details)
        self.code = code


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = copy.deepcopy(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def json_pointer(path):
    if path == '':
        return []
    if not path.startswith('/'):
        raise ApiError(422, 'Invalid', 'json patch: bad path %r' % path)
    return [p.replace('~1', '/').replace('~0', '~') for p in path[1:].split('/')]


def json_patch(doc, ops):
    """RFC 6902: add, remove, replace, test."""
    if not isinstance(ops, list):
        raise ApiError(400, 'BadRequest', 'json patch: not a list')
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or 'op' not in op or 'path' not in op:
            raise ApiError(400, 'BadRequest', 'json patch: bad operation')
        parts = json_pointer(op['path'])
        if not parts:
            raise ApiError(422, 'Invalid', 'json patch: whole document')
        parent = doc
        for p in parts[:-1]:
            try:
                parent = parent[int(p)] if isinstance(parent, list) else parent[p]
            except (KeyError, IndexError, ValueError, TypeError):
                raise ApiError(422, 'Invalid', 'json patch: no path %s' % op['path'])
        last = parts[-1]
        kind = op['op']
        try:
            if kind == 'test':
                cur = parent[int(last)] if isinstance(parent, list) else parent[last]
                if cur != op.get('value'):
                    raise ApiError(422, 'Invalid', 'json patch: test failed at %s' % op['path'])
            elif kind in ('add', 'replace'):
                if isinstance(parent, list):
                    i = len(parent) if last == '-' else int(last)
                    if kind == 'add':
                        parent.insert(i, op.get('value'))
                    else:
                        parent[i] = op.get('value')
                else:
                    if kind == 'replace' and last not in parent:
                        raise KeyError(last)
                    parent[last] = op.get('value')
            elif kind == 'remove':
                if isinstance(parent, list):
                    del parent[int(last)]
                else:
                    del parent[last]
            else:
                raise ApiError(422, 'Invalid', 'json patch: op %r not supported' % kind)
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, 'Invalid', 'json patch: no path %s' % op['path'])
    return doc


def parse_selector(sel):
    """Equality-based label selectors: k=v, k==v, k!=v, k, !k."""
    reqs = []
    if not sel:
        return reqs
    for term in sel.split(','):
        term = term.strip()
        if not term:
            continue
        if '!=' in term:
            k, v = term.split('!=', 1)
            reqs.append(('ne', k.strip(), v.strip()))
        elif '==' in term:
            k, v = term.split('==', 1)
            reqs.append(('eq', k.strip(), v.strip()))
        elif '=' in term:
            k, v = term.split('=', 1)
            reqs.append(('eq', k.strip(), v.strip()))
        elif term.startswith('!'):
            reqs.append(('absent', term[1:].strip(), None))
        else:
            reqs.append(('present', term, None))
    return reqs


def selector_match(reqs, labels):
    labels = labels or {}
    for op, k, v in reqs:
        if op == 'eq' and labels.get(k) != v:
            return False
        if op == 'ne' and labels.get(k) == v:
            return False
        if op == 'present' and k not in labels:
            return False
        if op == 'absent' and k in labels:
            return False
    return True


def check_key(key, what):
    """A label or annotation key: [prefix/]name (Kubernetes' rules)."""
    if '/' in key:
        prefix, name = key.split('/', 1)
        if len(prefix) > 253 or not DNS1123_SUB.match(prefix):
            raise ApiError(422, 'Invalid', '%s key %r: bad prefix' % (what, key))
    else:
        name = key
    if len(name) > 63 or not QNAME.match(name):
        raise ApiError(422, 'Invalid', '%s key %r: bad name' % (what, key))


class Store:
    def __init__(self, schema, history, state_file):
        self.lock = threading.Condition()
        self.jobs = {}          # (ns, name) -> object
        self.rv = 1
        self.events = []        # (rv, type, object)
        self.oldest = 1         # watches from rv < oldest get 410
        self.history = history
        self.schema = schema
        self.state_file = state_file
        self.drop_next_create = False
        self.race_next_patch = None     # (ns, name)
        self.down_until = 0.0
        self.log = []
        self.pages = {}         # continue token -> (rv, items left)
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                st = json.load(f)
            for o in st['jobs']:
                self.jobs[(o['metadata']['namespace'], o['metadata']['name'])] = o
            self.rv = st['rv']
            self.oldest = self.rv + 1   # a restart forgets the history

    def save(self):
        if not self.state_file:
            return
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump({'rv': self.rv, 'jobs': list(self.jobs.values())}, f)
        os.replace(tmp, self.state_file)

    def bump(self, obj, kind):
        """Gives obj a new resourceVersion and records the event."""
        self.rv += 1
        obj['metadata']['resourceVersion'] = str(self.rv)
        self.events.append((self.rv, kind, copy.deepcopy(obj)))
        if len(self.events) > self.history:
            drop = len(self.events) - self.history
            self.oldest = self.events[drop][0]
            del self.events[:drop]
        self.save()
        self.lock.notify_all()

    def validate(self, obj):
        errs = sorted(jsonschema.Draft7Validator(self.schema).iter_errors(obj),
                      key=lambda e: list(e.absolute_path))
        if errs:
            e = errs[0]
            where = '.'.join(str(p) for p in e.absolute_path) or '(root)'
            raise ApiError(422, 'Invalid', 'Job.batch is invalid: %s: %s' %
                           (where, e.message[:300]))
        md = obj.get('metadata') or {}
        name = md.get('name') or ''
        if len(name) > 63 or not DNS1123_LABEL.match(name):
            raise ApiError(422, 'Invalid', 'Job.batch %r is invalid: metadata.name: '
                           'a lowercase RFC 1123 label must consist of lower case '
                           'alphanumeric characters or \'-\', at most 63' % name)
        for k, v in (md.get('labels') or {}).items():
            check_key(k, 'label')
            if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
                raise ApiError(422, 'Invalid', 'label %r: bad value' % k)
        size = 0
        for k, v in (md.get('annotations') or {}).items():
            check_key(k, 'annotation')
            size += len(k) + len(v or '')
        if size > MAX_ANNOTATIONS:
            raise ApiError(422, 'Invalid', 'metadata.annotations: Too long: must '
                           'have at most 262144 bytes')
        restart = (((obj.get('spec') or {}).get('template') or {}).get('spec')
                   or {}).get('restartPolicy')
        if restart not in ('Never', 'OnFailure'):
            raise ApiError(422, 'Invalid', 'spec.template.spec.restartPolicy: '
                           'Required value: valid values: "OnFailure", "Never"')

    def set_cond(self, obj, ctype, value, reason):
        st = obj.setdefault('status', {})
        conds = st.setdefault('conditions', [])
        for c in conds:
            if c['type'] == ctype:
                if c['status'] != value:
                    c['status'] = value
                    c['reason'] = reason
                    c['lastTransitionTime'] = now_iso()
                c['lastProbeTime'] = now_iso()
                return
        conds.append({'type': ctype, 'status': value, 'reason': reason,
                      'lastProbeTime': now_iso(), 'lastTransitionTime': now_iso()})

    def controller(self, obj):
        """What the Job controller does on a spec change."""
        spec = obj['spec']
        st = obj.setdefault('status', {})
        done = any(c['type'] in ('Complete', 'Failed') and c['status'] == 'True'
                   for c in st.get('conditions', []))
        if done:
            return
        if spec.get('suspend'):
            self.set_cond(obj, 'Suspended', 'True', 'JobSuspended')
            st.pop('active', None)
            st.pop('startTime', None)
        else:
            if any(c['type'] == 'Suspended' for c in st.get('conditions', [])):
                self.set_cond(obj, 'Suspended', 'False', 'JobResumed')
            st['startTime'] = st.get('startTime') or now_iso()
            st['active'] = 1
            # An image from a .invalid registry never pulls: its pod
            # stays in ImagePullBackOff, active but never ready.
            ctrs = ((spec.get('template') or {}).get('spec') or {}).get('containers') or []
            st['ready'] = 0 if any('.invalid/' in (c.get('image') or '')
                                   for c in ctrs) else 1

    def create(self, ns, body):
        if not isinstance(body, dict):
            raise ApiError(400, 'BadRequest', 'body is not a JSON object')
        if body.get('kind') != 'Job' or body.get('apiVersion') != 'batch/v1':
            raise ApiError(400, 'BadRequest', 'the body is not a batch/v1 Job')
        obj = copy.deepcopy(body)
        md = obj.setdefault('metadata', {})
        if md.get('namespace') not in (None, ns):
            raise ApiError(400, 'BadRequest', 'the namespace of the provided '
                           'object does not match the namespace sent on the request')
        if not md.get('name') and md.get('generateName'):
            md['name'] = md['generateName'] + uuid.uuid4().hex[:5]
        md['namespace'] = ns
        for k in ('uid', 'resourceVersion', 'creationTimestamp'):
            md.pop(k, None)
        obj.pop('status', None)
        spec = obj.setdefault('spec', {})
        spec.setdefault('suspend', False)
        spec.setdefault('parallelism', 1)
        spec.setdefault('completions', 1)
        spec.setdefault('backoffLimit', 6)
        spec.setdefault('completionMode', 'NonIndexed')
        self.validate(obj)
        with self.lock:
            key = (ns, md['name'])
            if key in self.jobs:
                raise ApiError(409, 'AlreadyExists', 'jobs.batch "%s" already exists'
                               % md['name'], {'name': md['name'], 'group': 'batch',
                                              'kind': 'jobs'})
            md['uid'] = str(uuid.uuid4())
            md['creationTimestamp'] = now_iso()
            md['generation'] = 1
            obj['status'] = {}
            self.controller(obj)
            self.jobs[key] = obj
            self.bump(obj, 'ADDED')
            return copy.deepcopy(obj)

    def get(self, ns, name):
        o = self.jobs.get((ns, name))
        if o is None:
            raise ApiError(404, 'NotFound', 'jobs.batch "%s" not found' % name,
                           {'name': name, 'group': 'batch', 'kind': 'jobs'})
        return o

    def patch(self, ns, name, ctype, body):
        with self.lock:
            cur = self.get(ns, name)
            if self.race_next_patch == (ns, name) and isinstance(body, dict) \
                    and (body.get('metadata') or {}).get('resourceVersion'):
                # Another client changed the Job just before this patch.
                self.race_next_patch = None
                cur['metadata'].setdefault('annotations', {})['fake/raced'] = 'yes'
                self.bump(cur, 'MODIFIED')
            if ctype == 'application/json-patch+json':
                new = json_patch(cur, body)
            else:
                if not isinstance(body, dict):
                    raise ApiError(400, 'BadRequest', 'merge patch is not an object')
                want = (body.get('metadata') or {}).get('resourceVersion')
                if want is not None and want != cur['metadata']['resourceVersion']:
                    raise ApiError(409, 'Conflict', 'Operation cannot be fulfilled on '
                                   'jobs.batch "%s": the object has been modified; please '
                                   'apply your changes to the latest version and try '
                                   'again' % name, {'name': name, 'group': 'batch',
                                                    'kind': 'jobs'})
                new = merge_patch(cur, body)
            for k in ('name', 'namespace', 'uid', 'creationTimestamp'):
                if new.get('metadata', {}).get(k) != cur['metadata'].get(k):
                    raise ApiError(422, 'Invalid', 'metadata.%s: field is immutable' % k)
            new['metadata']['resourceVersion'] = cur['metadata']['resourceVersion']
            new['status'] = cur.get('status', {})
            if new.get('spec', {}).get('template') != cur['spec'].get('template') and \
                    (not cur['spec'].get('suspend') or cur['status'].get('startTime')
                     or (cur['status'].get('succeeded') or cur['status'].get('failed'))):
                raise ApiError(422, 'Invalid', 'Job.batch "%s" is invalid: spec.template: '
                               'Invalid value: field is immutable' % name)
            if new.get('spec', {}).get('selector') != cur['spec'].get('selector'):
                raise ApiError(422, 'Invalid', 'spec.selector: field is immutable')
            self.validate(new)
            if new == cur:
                return copy.deepcopy(cur)
            if new['spec'] != cur['spec']:
                new['metadata']['generation'] = cur['metadata'].get('generation', 1) + 1
            self.controller(new)
            self.jobs[(ns, name)] = new
            self.bump(new, 'MODIFIED')
            return copy.deepcopy(new)

    def delete(self, ns, name, policy):
        with self.lock:
            cur = self.get(ns, name)
            if policy not in (None, 'Background', 'Foreground', 'Orphan'):
                raise ApiError(400, 'BadRequest', 'propagationPolicy %r' % policy)
            del self.jobs[(ns, name)]
            self.bump(cur, 'DELETED')
            return {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},
                    'status': 'Success', 'details': {'name': name, 'group': 'batch',
                                                     'kind': 'jobs',
                                                     'uid': cur['metadata']['uid']}}

    def finish(self, ns, name, ok, at_start=False):
        with self.lock:
            cur = self.get(ns, name)
            st = cur.setdefault('status', {})
            if not st.get('startTime'):
                raise ApiError(409, 'Conflict', 'job has not started')
            st.pop('active', None)
            st['ready'] = 0
            if ok:
                st['succeeded'] = 1
                self.set_cond(cur, 'SuccessCriteriaMet', 'True', 'CompletionsReached')
                self.set_cond(cur, 'Complete', 'True', 'CompletionsReached')
                st['completionTime'] = st['startTime'] if at_start else now_iso()
            else:
                st['failed'] = 1
                self.set_cond(cur, 'FailureTarget', 'True', 'BackoffLimitExceeded')
                self.set_cond(cur, 'Failed', 'True', 'BackoffLimitExceeded')
            self.bump(cur, 'MODIFIED')
            return copy.deepcopy(cur)

    def listing(self, ns, reqs, name):
        items = []
        for (jns, jname), o in sorted(self.jobs.items()):
            if ns is not None and jns != ns:
                continue
            if name is not None and jname != name:
                continue
            if not selector_match(reqs, o['metadata'].get('labels')):
                continue
            items.append(o)
        return items


def typed(o):
    o = copy.deepcopy(o)
    o['kind'] = 'Job'
    o['apiVersion'] = 'batch/v1'
    return o


def discovery(path, port):
    if path == '/version':
        return {'major': '1', 'minor': '32', 'gitVersion': 'v1.32.2-ebb-fake',
                'gitCommit': '0', 'gitTreeState': 'clean', 'buildDate': '2025-02-11T00:00:00Z',
                'goVersion': 'go1.23', 'compiler': 'gc', 'platform': 'linux/amd64'}
    if path == '/api':
        return {'kind': 'APIVersions', 'versions': ['v1'],
                'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0',
                                                'serverAddress': '127.0.0.1:%d' % port}]}
    if path == '/api/v1':
        return {'kind': 'APIResourceList', 'groupVersion': 'v1', 'resources': [
            {'name': 'namespaces', 'singularName': 'namespace', 'namespaced': False,
             'kind': 'Namespace', 'verbs': ['get', 'list'], 'shortNames': ['ns']}]}
    if path == '/apis':
        return {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [
            {'name': 'batch', 'versions': [{'groupVersion': 'batch/v1', 'version': 'v1'}],
             'preferredVersion': {'groupVersion': 'batch/v1', 'version': 'v1'}}]}
    if path == '/apis/batch/v1':
        return {'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': 'batch/v1',
                'resources': [
                    {'name': 'jobs', 'singularName': 'job', 'namespaced': True, 'kind': 'Job',
                     'verbs': ['create', 'delete', 'deletecollection', 'get', 'list',
                               'patch', 'update', 'watch'], 'categories': ['all']},
                    {'name': 'jobs/status', 'singularName': '', 'namespaced': True,
                     'kind': 'Job', 'verbs': ['get', 'patch', 'update']}]}
    return None


JOBS = re.compile(r'^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?$')
FAKE = re.compile(r'^/fake/(complete|complete-at-start|fail)/([^/]+)/([^/]+)$')


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'kube-fake'

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, obj):
        data = (json.dumps(obj) + '\n').encode()
        self.code = code
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Audit-Id', str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def auth(self):
        h = self.headers.get('Authorization')
        if h is not None:
            if h == 'Bearer ' + self.server.token:
                return 'token'
            return None
        cert = self.connection.getpeercert() if hasattr(self.connection, 'getpeercert') else None
        if cert:
            return 'cert'
        return None

    def body(self):
        n = self.headers.get('Content-Length')
        if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
            data = b''
            while True:
                line = self.rfile.readline(100)
                size = int(line.split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    self.rfile.readline(100)
                    break
                data += self.rfile.read(size)
                self.rfile.readline(100)
                if len(data) > MAX_BODY:
                    raise ApiError(413, 'RequestEntityTooLarge', 'request entity too large')
        else:
            n = int(n or 0)
            if n > MAX_BODY:
                raise ApiError(413, 'RequestEntityTooLarge', 'request entity too large')
            data = self.rfile.read(n)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError as e:
            raise ApiError(400, 'BadRequest', 'the body is not JSON: %s' % e)

    def record(self, code, extra=None):
        if self.path.startswith('/fake/'):
            return
        u = urllib.parse.urlsplit(self.path)
        e = {'method': self.command, 'path': u.path, 'query': u.query,
             'content_type': self.headers.get('Content-Type'), 'auth': self.auth_kind,
             'status': code, 'time': time.time()}
        if extra:
            e.update(extra)
        with self.server.store.lock:
            self.server.store.log.append(e)

    def handle_one(self):
        self.code = 0
        self.extra = None
        try:
            self.serve()
        finally:
            if self.code:
                self.record(self.code, self.extra)

    def serve(self):
        st = self.server.store
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        self.auth_kind = self.auth()
        try:
            if self.auth_kind is None:
                raise ApiError(401, 'Unauthorized', 'Unauthorized')
            if u.path == '/fake/log':
                with st.lock:
                    lines = ''.join(json.dumps(e) + '\n' for e in st.log)
                data = lines.encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/x-ndjson')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if u.path.startswith('/fake/'):
                return self.fake(u.path)
            if time.time() < st.down_until:
                raise ApiError(503, 'ServiceUnavailable', 'the server is down (test)')
            d = discovery(u.path, self.server.server_address[1])
            if d is not None and self.command == 'GET':
                return self.send_json(200, d)
            if u.path == '/openapi/v2' and self.server.openapi:
                data = self.server.openapi
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            m = JOBS.match(u.path)
            if u.path == '/apis/batch/v1/jobs' and self.command == 'GET':
                ns, name = None, None
            elif m:
                ns, name = m.group(1), m.group(2)
            else:
                raise ApiError(404, 'NotFound', 'the server could not find the '
                               'requested resource')
            if self.command == 'GET' and name is None:
                if q.get('watch') in ('1', 'true'):
                    self.record(200, {'watch': True})
                    return self.watch(ns, q)
                reqs = parse_selector(q.get('labelSelector'))
                fname = None
                fs = q.get('fieldSelector')
                if fs:
                    if not fs.startswith('metadata.name='):
                        raise ApiError(400, 'BadRequest', 'field label not supported')
                    fname = fs.split('=', 1)[1]
                with st.lock:
                    cont = q.get('continue')
                    if cont:
                        snap = st.pages.pop(cont, None)
                        if snap is None or snap[0] < st.oldest - 1:
                            raise ApiError(410, 'Expired', 'The provided continue '
                                           'parameter is too old to display a '
                                           'consistent list result.')
                        rv, items = snap
                    else:
                        items = copy.deepcopy(st.listing(ns, reqs, fname))
                        rv = st.rv
                    md = {'resourceVersion': str(rv)}
                    limit = int(q.get('limit') or 0)
                    if self.server.max_page and (limit <= 0 or limit > self.server.max_page):
                        limit = self.server.max_page
                    if limit > 0 and len(items) > limit:
                        token = uuid.uuid4().hex
                        st.pages[token] = (rv, items[limit:])
                        items = items[:limit]
                        md['continue'] = token
                        md['remainingItemCount'] = len(st.pages[token][1])
                return self.send_json(200, {'kind': 'JobList', 'apiVersion': 'batch/v1',
                                            'metadata': md, 'items': items})
            if self.command == 'GET':
                with st.lock:
                    o = typed(st.get(ns, name))
                return self.send_json(200, o)
            if self.command == 'POST' and name is None:
                ct = (self.headers.get('Content-Type') or '').split(';')[0].strip()
                if ct != 'application/json':
                    raise ApiError(415, 'UnsupportedMediaType', 'the body of the request '
                                   'was in an unknown format - accepted media types '
                                   'include: application/json, application/yaml, '
                                   'application/vnd.kubernetes.protobuf')
                o = st.create(ns, self.body())
                if st.drop_next_create:
                    st.drop_next_create = False
                    self.record(201, {'dropped': True})
                    self.code = 0
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                return self.send_json(201, typed(o))
            if self.command == 'PATCH' and name is not None:
                ct = (self.headers.get('Content-Type') or '').split(';')[0].strip()
                if ct not in ('application/merge-patch+json',
                              'application/strategic-merge-patch+json',
                              'application/json-patch+json'):
                    raise ApiError(415, 'UnsupportedMediaType', 'the body of the request '
                                   'was in an unknown format - accepted media types '
                                   'include: application/json-patch+json, '
                                   'application/merge-patch+json, '
                                   'application/apply-patch+yaml')
                b = self.body()
                if isinstance(b, dict):
                    self.extra = {'patch_rv': (b.get('metadata') or {}).get('resourceVersion'),
                             'patch': b}
                return self.send_json(200, typed(st.patch(ns, name, ct, b)))
            if self.command == 'DELETE' and name is not None:
                b = self.body()
                policy = q.get('propagationPolicy')
                if isinstance(b, dict) and b.get('propagationPolicy'):
                    policy = b['propagationPolicy']
                self.extra = {'propagation': policy}
                return self.send_json(200, st.delete(ns, name, policy))
            raise ApiError(405, 'MethodNotAllowed', 'the server does not allow this '
                           'method on the requested resource')
        except ApiError as e:
            self.send_json(e.code, e.body)

    def fake(self, path):
        st = self.server.store
        m = FAKE.match(path)
        if m and self.command == 'POST':
            return self.send_json(200, typed(st.finish(m.group(2), m.group(3),
                                                       m.group(1) != 'fail',
                                                       m.group(1) == 'complete-at-start')))
        if path == '/fake/compact':
            # As after an etcd compaction with a restarted watch cache:
            # every resourceVersion given out so far is too old, watches
            # in progress get the 410 too, a new LIST gives a usable one.
            with st.lock:
                st.rv += 1
                st.oldest = st.rv + 1
                st.events = []
                st.save()
                st.lock.notify_all()
            return self.send_json(200, {'oldest': st.oldest})
        m = re.match(r'^/fake/race-next-patch/([^/]+)/([^/]+)$', path)
        if m:
            st.race_next_patch = (m.group(1), m.group(2))
            return self.send_json(200, {})
        if path == '/fake/drop-next-create':
            st.drop_next_create = True
            return self.send_json(200, {})
        if path.startswith('/fake/down/'):
            st.down_until = time.time() + float(path.rsplit('/', 1)[1])
            return self.send_json(200, {})
        raise ApiError(404, 'NotFound', 'no such fake endpoint')

    def chunk(self, obj):
        data = (json.dumps(obj) + '\n').encode()
        self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
        self.wfile.flush()

    def watch(self, ns, q):
        st = self.server.store
        reqs = parse_selector(q.get('labelSelector'))
        timeout = float(q.get('timeoutSeconds') or 1800)
        end = time.time() + timeout
        rv = q.get('resourceVersion') or '0'
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        try:
            with st.lock:
                if rv == '0':
                    for o in st.listing(ns, reqs, None):
                        self.chunk({'type': 'ADDED', 'object': typed(o)})
                    last = st.rv
                else:
                    try:
                        last = int(rv)
                    except ValueError:
                        last = -1
                    if last < st.oldest - 1 or last > st.rv:
                        self.chunk({'type': 'ERROR', 'object': status(
                            410, 'Expired', 'too old resource version: %s (%d)' %
                            (rv, st.oldest))})
                        self.wfile.write(b'0\r\n\r\n')
                        return
            while True:
                with st.lock:
                    left = end - time.time()
                    if left <= 0 or self.server.stopping:
                        break
                    if last < st.oldest - 1:
                        self.chunk({'type': 'ERROR', 'object': status(
                            410, 'Expired', 'too old resource version: %d (%d)' %
                            (last, st.oldest))})
                        break
                    pend = [e for e in st.events if e[0] > last]
                    if not pend:
                        st.lock.wait(min(left, 0.5))
                        continue
                for erv, kind, o in pend:
                    last = erv
                    if ns is not None and o['metadata']['namespace'] != ns:
                        continue
                    if not selector_match(reqs, o['metadata'].get('labels')):
                        continue
                    self.chunk({'type': kind, 'object': typed(o)})
            self.wfile.write(b'0\r\n\r\n')
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def do_GET(self):
        self.handle_one()

    do_POST = do_PATCH = do_DELETE = do_PUT = do_GET


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    ap.add_argument('--cert', required=True, help='server certificate (PEM)')
    ap.add_argument('--key', required=True, help='server key (PEM)')
    ap.add_argument('--ca', required=True, help='CA that signs client certificates')
    ap.add_argument('--token', required=True, help='the bearer token accepted')
    ap.add_argument('--schema', required=True, help='strict batch/v1 Job JSON schema')
    ap.add_argument('--openapi', help='served as /openapi/v2')
    ap.add_argument('--state', help='JSON file the Jobs are kept in')
    ap.add_argument('--history', type=int, default=1000, help='watch events kept')
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--max-page', type=int, default=0,
                    help='Jobs per LIST page at most, whatever limit asks')
    a = ap.parse_args()
    with open(a.schema) as f:
        schema = json.load(f)
    schema.pop('$schema', None)
    srv = Server(('127.0.0.1', a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.store = Store(schema, a.history, a.state)
    srv.token = a.token
    srv.stopping = False
    srv.openapi = open(a.openapi, 'rb').read() if a.openapi else None
    srv.max_page = a.max_page
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
