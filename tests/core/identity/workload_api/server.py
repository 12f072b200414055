"""Stand-in SPIFFE Workload API server (SPIRE cannot be installed here).

Built with grpcio and protoc-generated messages from workload.proto. Usage:
    server.py GEN_DIR CONFIG.json
CONFIG: {"socket": path, "delay_ms": n, "step_file": path (optional),
         "responses": [{"svids": [...], "federated": {...}}]}
Streams each response (delay_ms apart) on FetchX509SVID, then holds the stream open. With
step_file, response i (i >= 1) is sent only once the file `<step_file><i>` exists, so a test
decides when the SVID rotates.
Requests without the `workload.spiffe.io: true` metadata get INVALID_ARGUMENT, as SPIRE does.
"""
import base64
import json
import os
import sys
import time
from concurrent import futures

import grpc

sys.path.insert(0, sys.argv[1])
import workload_pb2 as pb  # noqa: E402

with open(sys.argv[2]) as f:
    CONFIG = json.load(f)


def build(resp):
    msg = pb.X509SVIDResponse()
    for s in resp["svids"]:
        svid = msg.svids.add()
        svid.spiffe_id = s["spiffe_id"]
        svid.x509_svid = base64.b64decode(s["x509_svid"])
        svid.x509_svid_key = base64.b64decode(s["x509_svid_key"])
        svid.bundle = base64.b64decode(s["bundle"])
    for k, v in resp.get("federated", {}).items():
        msg.federated_bundles[k] = base64.b64decode(v)
    return msg


def fetch(request, context):
    md = dict(context.invocation_metadata())
    if md.get("workload.spiffe.io") != "true":
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")
    step = CONFIG.get("step_file")
    for i, resp in enumerate(CONFIG["responses"]):
        if i:
            time.sleep(CONFIG["delay_ms"] / 1000)
            while step and not os.path.exists(f"{step}{i}"):
                if not context.is_active():
                    return
                time.sleep(0.05)
        yield build(resp)
    while context.is_active():
        time.sleep(0.05)


handler = grpc.method_handlers_generic_handler("SpiffeWorkloadAPI", {
    "FetchX509SVID": grpc.unary_stream_rpc_method_handler(
        fetch,
        request_deserializer=pb.X509SVIDRequest.FromString,
        response_serializer=pb.X509SVIDResponse.SerializeToString,
    ),
})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("unix:" + CONFIG["socket"])
server.start()
print("ready", flush=True)
server.wait_for_termination()
