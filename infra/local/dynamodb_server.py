"""moto server for DynamoDB and Streams (and S3: the after-sales photos' bucket, its form uploads
held to their signed policy by s3_post_policy.py), bound to 127.0.0.1, with every request serialized.

moto's backend has no lock of its own, so concurrent conditional writes can interleave and
oversell. One lock around the whole WSGI app makes it behave like DynamoDB's single-item
atomicity (and more): correctness over speed, which is what a local flash sale needs.

moto also backs up every table a transaction touches with a deep copy, stream records included,
so each transaction costs time proportional to the table: after a few thousand orders a checkout
took seconds. Here a transaction backs up only the items it touches (safe: requests are serialized).
And moto renders responses through a generic, model-driven serializer (GetRecords at about
2.6 ms a record, under the lock); DynamoDB's results are already in wire format, so plain
results are written out as JSON directly and anything else goes through moto's serializer.
"""
import argparse
import json
import re
import sys
import threading
from collections import Counter

import copy
import types

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


def _touched(backend, transact_items):
    """(table, hash key, range key) of each item a transaction writes or checks."""
    for entry in transact_items:
        op = next(iter(entry.values()))
        table = backend.get_table(op["TableName"])
        key = op.get("Key") or {
            name: op["Item"][name] for name in (table.hash_key_attr, table.range_key_attr) if name
        }
        yield (table, *backend.get_keys_value(table, key))


def transact_write_items_backing_up_items(self, transact_items):
    saved, stream_marks = [], {}
    for table, hash_key, range_key in _touched(self, transact_items):
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        if table.stream_shard is not None:
            stream_marks[id(table)] = (table, len(table.stream_shard.items))
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(saved):
            home = table.items[hash_key] if range_key is not None else table.items
            slot = range_key if range_key is not None else hash_key
            if item is None:
                home.pop(slot, None)
            else:
                home[slot] = item
        for table, length in stream_marks.values():
            del table.stream_shard.items[length:]
        raise


_moto_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items


def back_up_only_touched_items(set_attr=setattr) -> None:
    """Transactions back up the items they touch, not whole tables. set_attr patches moto (a test
    passes monkeypatch.setattr, so its in-process moto is patched for that test only)."""
    # The original's whole-table deep copy (one per item of the transaction) becomes a no-op
    # (other deep copies stay); the wrapper above restores what changed.
    set_attr(dynamodb_models, "copy", types.SimpleNamespace(
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo)))
    set_attr(dynamodb_models.DynamoDBBackend, "transact_write_items", transact_write_items_backing_up_items)


def get_records_as_json(self) -> str:
    result = self.backend.get_records(self._get_param("ShardIterator"), self._get_param("Limit") or 1000)
    # ApproximateCreationDateTime is a datetime in moto and epoch seconds on the wire.
    return json.dumps(result, default=lambda value: int(value.timestamp()))


_moto_serialized = DynamoHandler.serialized


def serialized_as_json(self, action_result):
    if isinstance(action_result.result, dict):
        try:
            body = json.dumps(action_result.result)
        except TypeError:  # datetimes and other objects: moto's serializer knows them
            return _moto_serialized(self, action_result)
        return 200, {**self.response_headers, "Content-Type": "application/x-amz-json-1.0"}, body
    return _moto_serialized(self, action_result)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass  # one line per DynamoDB call drowns the stack's log


_APP_ID = re.compile(r"app/([\w.-]+)")


def serialized(wsgi_app):
    """One request at a time; counts requests per client (botocore's `app/<AWS_SDK_UA_APP_ID>`)
    and operation, served at GET /_tapcard/requests (DELETE resets), for the benchmarks."""
    lock = threading.Lock()
    counts: Counter = Counter()

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/_tapcard/requests":
            with lock:
                if environ["REQUEST_METHOD"] == "DELETE":
                    counts.clear()
                body = json.dumps({f"{client}:{operation}": n for (client, operation), n in counts.items()})
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body.encode()]
        client = _APP_ID.search(environ.get("HTTP_USER_AGENT", ""))
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or "other"
        with lock:
            counts[(client.group(1) if client else "unknown", operation)] += 1
            # Drain the body inside the lock so the response is complete before the next request.
            return list(wsgi_app(environ, start_response))

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5005)
    args = parser.parse_args()
    back_up_only_touched_items()
    DynamoDBStreamsHandler.get_records = get_records_as_json
    DynamoHandler.serialized = serialized_as_json
    from s3_post_policy import enforced  # run as a script: infra/local is on the path

    app = serialized(enforced(DomainDispatcherApplication(create_backend_app)))
    # Requests run one at a time anyway: let the one holding the lock finish before the GIL
    # passes to threads that would only queue behind it.
    sys.setswitchinterval(0.05)
    print(f"moto server (DynamoDB + Streams, serialized) on http://127.0.0.1:{args.port}", flush=True)
    run_simple("127.0.0.1", args.port, app, threaded=True, request_handler=QuietHandler)


if __name__ == "__main__":
    main()
