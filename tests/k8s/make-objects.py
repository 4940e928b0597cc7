#!/usr/bin/env python3
"""Regenerate the real-shaped object files used by the demo and the tests.

    tests/k8s/make-objects.py examples/k8s/demo-cluster.json tests/k8s/objects/basic.json

Output is deterministic (uuid5 UIDs, fixed timestamps), shaped like
`kubectl get namespaces,services,endpointslices,pods -A -o json`. Addresses are
data only (ClusterIPs 10.96/12, pods 10.244/16, nodes 172.18.0.x, fd00::/8).
"""
import json, uuid, itertools, sys
RV = itertools.count(401)
NODES = {"cp": ("dpdns-demo-control-plane", "172.18.0.2"), "w1": ("dpdns-demo-worker", "172.18.0.3"),
         "w2": ("dpdns-demo-worker2", "172.18.0.4")}
T0 = "2024-05-02T09:14:0%dZ"

def uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "dpdns-demo/" + "/".join(parts)))

def meta(kind, name, ns=None, labels=None, ts="2024-05-02T09:14:03Z", **extra):
    m = {"creationTimestamp": ts}
    m.update(extra)
    if labels:
        m["labels"] = dict(sorted(labels.items()))
    m["name"] = name
    if ns:
        m["namespace"] = ns
    m["resourceVersion"] = str(next(RV))
    m["uid"] = uid(kind, ns or "", name)
    return dict(sorted(m.items()))

def namespace(name, ts="2024-05-02T09:14:03Z"):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": meta("Namespace", name, labels={"kubernetes.io/metadata.name": name}, ts=ts),
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

def port(name, p, target=None, proto="TCP"):
    d = {"port": p, "protocol": proto, "targetPort": target if target is not None else p}
    if name:
        d["name"] = name
    return dict(sorted(d.items()))

def service(ns, name, ips, ports, selector=None, labels=None, policy=None, headless_fams=None,
            ts="2024-05-02T09:20:00Z"):
    if ips == "None":
        fams, cips = headless_fams or ["IPv4"], ["None"]
    else:
        fams = ["IPv6" if ":" in ip else "IPv4" for ip in ips]
        cips = ips
    spec = {"clusterIP": cips[0], "clusterIPs": cips, "internalTrafficPolicy": "Cluster",
            "ipFamilies": fams, "ipFamilyPolicy": policy or ("SingleStack" if len(fams) == 1 else "PreferDualStack"),
            "ports": ports, "sessionAffinity": "None", "type": "ClusterIP"}
    if selector:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta("Service", name, ns, labels, ts=ts),
            "spec": dict(sorted(spec.items())), "status": {"loadBalancer": {}}}

def external(ns, name, target, ts="2024-05-02T09:21:00Z"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": meta("Service", name, ns, {"app": name}, ts=ts),
            "spec": {"externalName": target, "sessionAffinity": "None", "type": "ExternalName"},
            "status": {"loadBalancer": {}}}

def endpoint(ip, pod=None, ns=None, node=None, ready=True, serving=None, terminating=False,
             hostname=None, zone=None, conditions=None):
    e = {"addresses": [ip]}
    if conditions is not None:
        e["conditions"] = conditions
    else:
        e["conditions"] = {"ready": ready, "serving": ready if serving is None else serving,
                           "terminating": terminating}
    if hostname:
        e["hostname"] = hostname
    if node:
        e["nodeName"] = NODES[node][0]
    if pod:
        e["targetRef"] = {"kind": "Pod", "name": pod, "namespace": ns, "uid": uid("Pod", ns, pod)}
    if zone:
        e["zone"] = zone
    return dict(sorted(e.items()))

def slice_(svc, name, fam, endpoints, ports, headless=False, managed=True, ts="2024-05-02T09:22:00Z"):
    ns, sname = svc["metadata"]["namespace"], svc["metadata"]["name"]
    labels = {"kubernetes.io/service-name": sname}
    if managed:
        labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io"
    labels.update(svc["metadata"].get("labels", {}))
    if headless:
        labels["service.kubernetes.io/headless"] = ""
    extra = {}
    if managed:
        extra = {"annotations": {"endpoints.kubernetes.io/last-change-trigger-time": ts},
                 "generateName": sname + "-", "generation": 2,
                 "ownerReferences": [{"apiVersion": "v1", "blockOwnerDeletion": True, "controller": True,
                                      "kind": "Service", "name": sname, "uid": svc["metadata"]["uid"]}]}
    return {"addressType": fam, "apiVersion": "discovery.k8s.io/v1", "endpoints": endpoints,
            "kind": "EndpointSlice", "metadata": meta("EndpointSlice", name, ns, labels, ts=ts, **extra),
            "ports": ports}

def sport(name, p, proto="TCP"):
    return {"name": name, "port": p, "protocol": proto}

def pod(ns, name, node, ips, labels, image, cports, phase="Running", ready=True, owner=None,
        hostname=None, subdomain=None, deleting=False, ts="2024-05-02T09:18:00Z"):
    extra = {}
    if owner:
        okind, oname = owner
        extra["ownerReferences"] = [{"apiVersion": "batch/v1" if okind == "Job" else "apps/v1",
                                     "blockOwnerDeletion": True, "controller": True, "kind": okind,
                                     "name": oname, "uid": uid(okind, ns, oname)}]
        if okind == "ReplicaSet":
            extra["generateName"] = oname + "-"
    if deleting:
        extra["deletionGracePeriodSeconds"] = 30
        extra["deletionTimestamp"] = "2024-05-02T10:02:41Z"
    container = {"image": image, "imagePullPolicy": "IfNotPresent", "name": labels.get("app", name),
                 "resources": {}, "terminationMessagePath": "/dev/termination-log",
                 "terminationMessagePolicy": "File"}
    if cports:
        container["ports"] = [{"containerPort": p, "name": n, "protocol": pr} if n else
                              {"containerPort": p, "protocol": pr} for n, p, pr in cports]
    container = dict(sorted(container.items()))
    spec = {"containers": [container], "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
            "nodeName": NODES[node][0], "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Never" if phase in ("Succeeded", "Failed") else "Always",
            "schedulerName": "default-scheduler", "securityContext": {}, "serviceAccount": "default",
            "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready",
                             "operator": "Exists", "tolerationSeconds": 300},
                            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                             "operator": "Exists", "tolerationSeconds": 300}]}
    if hostname:
        spec["hostname"] = hostname
    if subdomain:
        spec["subdomain"] = subdomain
    running = phase == "Running"
    rd = "True" if ready and running else "False"
    conds = []
    for t, st in (("PodReadyToStartContainers", "True" if running else "False"), ("Initialized", "True"),
                  ("Ready", rd), ("ContainersReady", rd), ("PodScheduled", "True")):
        c = {"lastProbeTime": None, "lastTransitionTime": "2024-05-02T09:19:12Z", "status": st, "type": t}
        if st == "False" and t in ("Ready", "ContainersReady"):
            c["reason"] = "PodCompleted" if phase == "Succeeded" else "ContainersNotReady"
        conds.append(c)
    if running:
        state = {"running": {"startedAt": "2024-05-02T09:19:10Z"}}
    elif phase == "Pending":
        state = {"waiting": {"reason": "ContainerCreating"}}
    else:
        state = {"terminated": {"containerID": "containerd://" + uid("c", ns, name).replace("-", ""),
                 "exitCode": 0 if phase == "Succeeded" else 1, "finishedAt": "2024-05-02T09:19:40Z",
                 "reason": "Completed" if phase == "Succeeded" else "Error",
                 "startedAt": "2024-05-02T09:19:10Z"}}
    cs = {"image": image, "imageID": image.split(":")[0] + "@sha256:" + uuid.uuid5(uuid.NAMESPACE_URL, image).hex * 2,
          "lastState": {}, "name": container["name"], "ready": rd == "True", "restartCount": 0,
          "started": running, "state": state}
    if phase != "Pending":
        cs["containerID"] = "containerd://" + uid("c", ns, name).replace("-", "")
    status = {"conditions": conds, "containerStatuses": [dict(sorted(cs.items()))],
              "hostIP": NODES[node][1], "hostIPs": [{"ip": NODES[node][1]}], "phase": phase,
              "qosClass": "BestEffort", "startTime": "2024-05-02T09:19:08Z"}
    if ips:
        status["podIP"] = ips[0]
        status["podIPs"] = [{"ip": ip} for ip in ips]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": meta("Pod", name, ns, labels, ts=ts, **extra),
            "spec": dict(sorted(spec.items())), "status": dict(sorted(status.items()))}

def dump(items, path):
    doc = {"apiVersion": "v1", "items": items, "kind": "List",
           "metadata": {"resourceVersion": ""}}
    with open(path, "w") as f:
        json.dump(doc, f, indent=4)
        f.write("\n")

# ---------------------------------------------------------------- demo cluster
def demo():
    items = [namespace("default", "2024-05-02T09:13:58Z"), namespace("kube-system", "2024-05-02T09:13:58Z"),
             namespace("shop", "2024-05-02T09:16:40Z"), namespace("db", "2024-05-02T09:16:41Z")]
    svcs, slices, pods = [], [], []
    k8s = service("default", "kubernetes", ["10.96.0.1"], [port("https", 443, 6443)],
                  labels={"component": "apiserver", "provider": "kubernetes"}, ts="2024-05-02T09:14:00Z")
    svcs.append(k8s)
    slices.append(slice_(k8s, "kubernetes", "IPv4", [endpoint("172.18.0.2")], [sport("https", 6443)],
                         managed=False, ts="2024-05-02T09:14:00Z"))
    dns = service("kube-system", "kube-dns", ["10.96.0.10"],
                  [port("dns", 53, 53, "UDP"), port("dns-tcp", 53, 53), port("metrics", 9153)],
                  selector={"k8s-app": "kube-dns"},
                  labels={"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                          "kubernetes.io/name": "CoreDNS"}, ts="2024-05-02T09:14:02Z")
    svcs.append(dns)
    rs = "coredns-7db6d8ff4d"
    dns_pods = [(rs + "-9xk2w", "10.244.0.2"), (rs + "-tq8mb", "10.244.0.3")]
    for n, ip in dns_pods:
        pods.append(pod("kube-system", n, "cp", [ip], {"k8s-app": "kube-dns", "pod-template-hash": "7db6d8ff4d"},
                        "registry.k8s.io/coredns/coredns:v1.11.1",
                        [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")],
                        owner=("ReplicaSet", rs), ts="2024-05-02T09:14:20Z"))
    slices.append(slice_(dns, "kube-dns-n5r7v", "IPv4",
                         [endpoint(ip, n, "kube-system", "cp") for n, ip in dns_pods],
                         [sport("dns-tcp", 53), sport("dns", 53, "UDP"), sport("metrics", 9153)]))
    # shop: dual-stack frontend with a terminating replica
    fe = service("shop", "frontend", ["10.96.12.34", "fd00:10:96::c22"], [port("http", 80, 8080)],
                 selector={"app": "frontend"}, labels={"app": "frontend"}, policy="PreferDualStack")
    svcs.append(fe)
    rs = "frontend-6c5f9d7b8d"
    fe_pods = [(rs + "-x2k4p", "w1", "10.244.1.5", "fd00:10:244:1::5", False),
               (rs + "-q7w9z", "w2", "10.244.2.7", "fd00:10:244:2::7", False),
               (rs + "-m4h6s", "w1", "10.244.1.8", "fd00:10:244:1::8", True)]
    for n, node, v4, v6, deleting in fe_pods:
        pods.append(pod("shop", n, node, [v4, v6], {"app": "frontend", "pod-template-hash": "6c5f9d7b8d"},
                        "registry.example/shop/frontend:1.4.2", [("http", 8080, "TCP")],
                        owner=("ReplicaSet", rs), deleting=deleting, ready=not deleting))
    for fam, idx, sname in (("IPv4", 2, "frontend-8xk2q"), ("IPv6", 3, "frontend-r2lbc")):
        eps = [endpoint(p[idx], p[0], "shop", p[1], ready=not p[4], serving=True, terminating=p[4],
                        zone="zone-a" if p[1] == "w1" else "zone-b") for p in fe_pods]
        slices.append(slice_(fe, sname, fam, eps, [sport("http", 8080)]))
    cart = service("shop", "cart", ["10.96.45.6"], [port(None, 8080)], selector={"app": "cart"},
                   labels={"app": "cart"})
    svcs.append(cart)
    pods.append(pod("shop", "cart-5b8d4c9f7-lw2jd", "w2", ["10.244.2.9"], {"app": "cart"},
                    "registry.example/shop/cart:2.0.1", [(None, 8080, "TCP")],
                    owner=("ReplicaSet", "cart-5b8d4c9f7")))
    slices.append(slice_(cart, "cart-jz6hd", "IPv4",
                         [endpoint("10.244.2.9", "cart-5b8d4c9f7-lw2jd", "shop", "w2")],
                         [{"name": "", "port": 8080, "protocol": "TCP"}]))
    svcs.append(external("shop", "payments", "payments.example.net"))
    svcs.append(external("shop", "catalog-db", "postgres.db.svc.cluster.local"))
    pods.append(pod("shop", "migrate-28571234-b6d2k", "w2", ["10.244.2.11"],
                    {"batch.kubernetes.io/job-name": "migrate-28571234", "job-name": "migrate-28571234"},
                    "registry.example/shop/migrate:1.4.2", [], phase="Succeeded",
                    owner=("Job", "migrate-28571234")))
    # db: headless StatefulSet with hostnames, one replica not ready
    pg = service("db", "postgres", "None", [port("postgres", 5432), port("metrics", 9187)],
                 selector={"app": "postgres"}, labels={"app": "postgres"})
    svcs.append(pg)
    pg_pods = [("postgres-0", "w1", "10.244.1.12", True), ("postgres-1", "w2", "10.244.2.13", True),
               ("postgres-2", "w1", "10.244.1.14", False)]
    for n, node, ip, ready in pg_pods:
        pods.append(pod("db", n, node, [ip], {"app": "postgres", "apps.kubernetes.io/pod-index": n[-1],
                                               "statefulset.kubernetes.io/pod-name": n},
                        "registry.example/db/postgres:16.2", [("postgres", 5432, "TCP"), ("metrics", 9187, "TCP")],
                        ready=ready, owner=("StatefulSet", "postgres"), hostname=n, subdomain="postgres"))
    slices.append(slice_(pg, "postgres-4fkwd", "IPv4",
                         [endpoint(ip, n, "db", node, ready=r, hostname=n) for n, node, ip, r in pg_pods],
                         [sport("metrics", 9187), sport("postgres", 5432)], headless=True))
    # db: dual-stack headless without hostnames (names are dashed IPs), ready=nil
    redis = service("db", "redis", "None", [port("redis", 6379)], selector={"app": "redis"},
                    labels={"app": "redis"}, policy="PreferDualStack", headless_fams=["IPv4", "IPv6"])
    svcs.append(redis)
    rn = "redis-5f4b8c7d9-kx8mz"
    pods.append(pod("db", rn, "w2", ["10.244.2.20", "fd00:10:244:2::14"], {"app": "redis"},
                    "registry.example/db/redis:7.2", [("redis", 6379, "TCP")], owner=("ReplicaSet", "redis-5f4b8c7d9")))
    for fam, ip, sname in (("IPv4", "10.244.2.20", "redis-7tq9m"), ("IPv6", "fd00:10:244:2::14", "redis-hc5xp")):
        slices.append(slice_(redis, sname, fam, [endpoint(ip, rn, "db", "w2", conditions={})],
                             [sport("redis", 6379)], headless=True))
    # db: headless with no pods at all -> placeholder slice (endpoints/ports null)
    an = service("db", "analytics", "None", [port("http", 8080)], selector={"app": "analytics"},
                 labels={"app": "analytics"})
    svcs.append(an)
    slices.append(slice_(an, "analytics-d8v2n", "IPv4", None, None, headless=True))
    return items + svcs + slices + pods

# ---------------------------------------------------------------- test objects
def basic():
    items = [namespace(n) for n in ("default", "kube-system", "ns1", "ns2")]
    k8s = service("default", "kubernetes", ["10.96.0.1"], [port("https", 443, 6443)],
                  labels={"component": "apiserver", "provider": "kubernetes"})
    web = service("ns1", "web", ["10.96.1.1", "fd00:10:96::101"], [port("http", 80, 8080)],
                  selector={"app": "web"}, labels={"app": "web", "tier": "front"})
    api = service("ns1", "api", ["10.96.1.2"], [port("grpc", 9000)], selector={"app": "api"},
                  labels={"app": "api", "tier": "back"})
    hl = service("ns1", "db", "None", [port("pg", 5432)], selector={"app": "db"}, labels={"app": "db"})
    other = service("ns2", "other", ["10.96.2.1"], [port(None, 80)], labels={"app": "web", "env": "prod"})
    ext = external("ns2", "ext", "www.example.org")
    items += [k8s, web, api, hl, other, ext]
    items.append(slice_(web, "web-abcde", "IPv4", [endpoint("10.244.1.10", "web-1", "ns1", "w1")],
                        [sport("http", 8080)]))
    items.append(slice_(hl, "db-fghij", "IPv4",
                        [endpoint("10.244.1.20", "db-0", "ns1", "w1", hostname="db-0"),
                         endpoint("10.244.1.21", "db-1", "ns1", "w1", ready=False, hostname="db-1")],
                        [sport("pg", 5432)], headless=True))
    items.append(pod("ns1", "web-1", "w1", ["10.244.1.10"], {"app": "web"}, "registry.example/web:1", [("http", 8080, "TCP")]))
    items.append(pod("ns1", "db-0", "w1", ["10.244.1.20"], {"app": "db"}, "registry.example/db:1", [("pg", 5432, "TCP")],
                     hostname="db-0", subdomain="db"))
    items.append(pod("ns1", "job-1", "w2", ["10.244.2.30"], {"app": "job"}, "registry.example/job:1", [], phase="Succeeded"))
    items.append(pod("ns1", "failed-1", "w2", ["10.244.2.31"], {"app": "job"}, "registry.example/job:1", [], phase="Failed"))
    items.append(pod("ns2", "other-1", "w2", [], {"app": "web"}, "registry.example/web:1", [], phase="Pending"))
    return items

dump(demo(), sys.argv[1])
RV = itertools.count(201)
dump(basic(), sys.argv[2])
