#!/usr/bin/python3
"""The API discovery kubectl reads before a client-side dry run, served on loopback.

`kubectl apply --dry-run=client` maps each object's apiVersion and kind to a resource through
the server's discovery documents and asks for the live object (to compute a patch); nothing is
ever created. This serves discovery for the kinds ttyaudit's manifests use, answers 404 for
every object, and refuses every write. Anything it does not know of is a 404, so a manifest
with an unknown apiVersion or kind fails the dry run.

Usage: kube_discovery.py PORT-FILE   (binds 127.0.0.1 on a free port, writes the port there)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# group/version -> [(resource, kind, namespaced)]
RESOURCES = {
    "v1": [("namespaces", "Namespace", False), ("pods", "Pod", True),
           ("secrets", "Secret", True), ("configmaps", "ConfigMap", True),
           ("serviceaccounts", "ServiceAccount", True)],
    "apps/v1": [("daemonsets", "DaemonSet", True)],
    "node.k8s.io/v1": [("runtimeclasses", "RuntimeClass", False)],
}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resource_list(group_version):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": r, "singularName": "", "namespaced": ns, "kind": k,
                           "verbs": VERBS} for r, k, ns in RESOURCES[group_version]]}


def group_list():
    groups = []
    for gv in RESOURCES:
        if "/" in gv:
            group, version = gv.split("/")
            entry = {"groupVersion": gv, "version": version}
            groups.append({"name": group, "versions": [entry], "preferredVersion": entry})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self):
        self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "reason": "NotFound", "code": 404, "message": "not found"})

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        if path == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return self.reply(200, group_list())
        if path == "/api/v1":
            return self.reply(200, resource_list("v1"))
        if path.startswith("/apis/") and path[len("/apis/"):] in RESOURCES:
            return self.reply(200, resource_list(path[len("/apis/"):]))
        self.not_found()

    def refuse(self):
        self.reply(405, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                         "reason": "MethodNotAllowed", "code": 405,
                         "message": "a dry run writes nothing"})

    do_POST = do_PUT = do_PATCH = do_DELETE = refuse

    def log_message(self, fmt, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
