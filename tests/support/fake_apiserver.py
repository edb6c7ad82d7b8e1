"""A fake Kubernetes API server for the tests of the chart's `lookup`s (tests/e2e_helm.rs).

No cluster exists where the tests run, and `helm template` finds nothing with `lookup`. Given a
kubeconfig that points here, `helm template --dry-run=server` (Helm 3 and 4) renders as helm does
against a cluster: it reads the server's version and discovery, then each `lookup` is a GET of
one object. This server answers those from a fixtures file and records every request.

    python3 fake_apiserver.py FIXTURES.json

FIXTURES.json: {"objects": {PATH: OBJECT}, "forbidden": [PATH], "log": LOGFILE}. A PATH is the
object's API path (/api/v1/namespaces/NS/secrets/NAME, /apis/apps/v1/namespaces/NS/deployments/
NAME, /apis/storage.k8s.io/v1/storageclasses/NAME). A GET of a listed object returns it; of a
forbidden path, 403 Forbidden as an API server refuses a user without RBAC; of any other object,
404 NotFound; a list (a collection path), an empty list. The discovery documents list the kinds
the charts render and look up. Prints the port it listens on (127.0.0.1), then serves until
killed. Plain HTTP: client-go accepts an http:// server in a kubeconfig.
"""

import json
import sys
import http.server

# Kubernetes API groups: (group, version, [(resource, kind, namespaced)]).
GROUPS = [
    ("", "v1", [
        ("configmaps", "ConfigMap", True),
        ("secrets", "Secret", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("services", "Service", True),
        ("pods", "Pod", True),
        ("persistentvolumeclaims", "PersistentVolumeClaim", True),
        ("namespaces", "Namespace", False),
    ]),
    ("apps", "v1", [
        ("deployments", "Deployment", True),
        ("statefulsets", "StatefulSet", True),
    ]),
    ("autoscaling", "v2", [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)]),
    ("batch", "v1", [("jobs", "Job", True), ("cronjobs", "CronJob", True)]),
    ("policy", "v1", [("poddisruptionbudgets", "PodDisruptionBudget", True)]),
    ("networking.k8s.io", "v1", [
        ("networkpolicies", "NetworkPolicy", True),
        ("ingresses", "Ingress", True),
    ]),
    ("scheduling.k8s.io", "v1", [("priorityclasses", "PriorityClass", False)]),
    ("storage.k8s.io", "v1", [("storageclasses", "StorageClass", False)]),
]

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resource_list(group, version, resources):
    gv = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": [
            {
                "name": name,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": VERBS,
            }
            for name, kind, namespaced in resources
        ],
    }


def discovery():
    docs = {
        "/version": {
            "major": "1",
            "minor": "33",
            "gitVersion": "v1.33.0",
            "platform": "linux/amd64",
        },
        "/api": {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}
            ],
        },
    }
    groups = []
    for group, version, resources in GROUPS:
        if group:
            gv = {"groupVersion": f"{group}/{version}", "version": version}
            groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
            docs[f"/apis/{group}/{version}"] = resource_list(group, version, resources)
        else:
            docs[f"/api/{version}"] = resource_list(group, version, resources)
    docs["/apis"] = {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    return docs


def status(code, reason, message):
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def is_collection(path):
    """/api/v1/namespaces/NS/secrets or /apis/G/V/storageclasses: an even count of parts
    after the group version means a collection."""
    parts = [p for p in path.split("/") if p]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    return len(rest) % 2 == 1


def main():
    fixtures = json.load(open(sys.argv[1]))
    objects = fixtures.get("objects", {})
    forbidden = set(fixtures.get("forbidden", []))
    log = open(fixtures["log"], "a", buffering=1)
    docs = discovery()

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            log.write(f"GET {path}\n")
            if path in docs:
                self.answer(200, docs[path])
            elif path in forbidden:
                name = path.rsplit("/", 1)[-1]
                self.answer(403, status(403, "Forbidden", f'"{name}" is forbidden: User "deployer" cannot get it'))
            elif path in objects:
                self.answer(200, objects[path])
            elif path.startswith("/api") and is_collection(path):
                self.answer(200, {"kind": "List", "apiVersion": "v1", "metadata": {}, "items": []})
            else:
                self.answer(404, status(404, "NotFound", f"{path} not found"))

        def do_POST(self):
            log.write(f"POST {self.path}\n")
            self.answer(405, status(405, "MethodNotAllowed", "the fake API server only reads"))

        do_PUT = do_PATCH = do_DELETE = do_POST

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
