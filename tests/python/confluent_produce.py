"""Writes records onto a broker as Confluent's own Python client and serializers write them.

Usage: confluent_produce.py PLAN.json

The plan names the broker, the registry, the .proto folder and, per topic, how to write it
(`protobuf`: ProtobufSerializer framing; `protobuf-plain`: bare messages; `json-schema`:
JSONSerializer framing) and the records: {"key", "message" (Identity or Identity.Device),
"value" (the message as JSON), "timestamp_ms"}. Records of one topic go out in one flush with
a linger, so batches hold several records, as producers write them. Prints, per topic, the
partition and offset of each record in order, as JSON.
"""

import importlib
import json
import os
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc
from google.protobuf import json_format

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def compile_protos(proto_dir):
    out = tempfile.mkdtemp()
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = [
        os.path.join(root, name)
        for root, _, names in os.walk(proto_dir)
        for name in names
        if name.endswith(".proto")
    ]
    code = protoc.main(
        ["protoc", f"-I{proto_dir}", f"-I{well_known}", f"--python_out={out}"] + files
    )
    if code != 0:
        sys.exit(f"protoc failed: {code}")
    sys.path.insert(0, out)
    return importlib.import_module("c360.identity_pb2")


def main():
    plan = json.load(open(sys.argv[1]))
    identity_pb2 = compile_protos(plan["proto_dir"])
    registry = SchemaRegistryClient(
        {"url": plan["registry"], "basic.auth.user.info": plan["registry_auth"]}
    )
    types = {"Identity": identity_pb2.Identity, "Identity.Device": identity_pb2.Identity.Device}
    producer = Producer(
        {
            "bootstrap.servers": plan["bootstrap"],
            "linger.ms": 200,
            "enable.idempotence": False,
            # The Java client's partitioner, as the spec's default expects.
            "partitioner": "murmur2_random",
        }
    )
    placed = {}
    for topic in plan["topics"]:
        name, how = topic["topic"], topic["format"]
        serializers = {}
        results = [None] * len(topic["records"])

        def delivered(err, msg, index, results=results):
            if err is not None:
                sys.exit(f"delivery failed: {err}")
            results[index] = (msg.partition(), msg.offset())

        for index, record in enumerate(topic["records"]):
            ctx = SerializationContext(name, MessageField.VALUE)
            if how == "json-schema":
                if "json" not in serializers:
                    serializers["json"] = JSONSerializer(json.dumps(topic["schema"]), registry)
                value = serializers["json"](record["value"], ctx)
            else:
                cls = types[record["message"]]
                message = json_format.ParseDict(record["value"], cls())
                if how == "protobuf-plain":
                    value = message.SerializeToString()
                else:
                    if cls not in serializers:
                        serializers[cls] = ProtobufSerializer(cls, registry)
                    value = serializers[cls](message, ctx)
            producer.produce(
                name,
                key=record["key"].encode(),
                value=value,
                timestamp=record["timestamp_ms"],
                on_delivery=lambda err, msg, i=index: delivered(err, msg, i),
            )
        producer.flush(30)
        placed[name] = results
    print(json.dumps(placed))


if __name__ == "__main__":
    main()
