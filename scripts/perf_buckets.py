"""Attributes the samples of a `perf record --call-graph dwarf` profile of the server to the
pieces of a request, for the "Where the time goes" tables of BENCHMARKS.md.

Usage:
    perf script -i perf.data -F comm,tid,ip,sym > perf.txt   # keep inlined frames
    python3 scripts/perf_buckets.py perf.txt [µs-per-sample]   # shares (and µs per request)
    python3 scripts/perf_buckets.py perf.txt 0 BUCKET [DEPTH]   # the hottest stacks of one bucket

Each sample goes to the first bucket in BUCKETS (in list order) that names any frame of its
stack, so a sample of SHA-256 under the audit writer counts as audit, not as hashing. Generic
arguments are stripped from frame names first. Owns nothing else: it reads perf's text output.
"""
import collections
import sys

BUCKETS = [
    ("audit", ["audit::", "AuditLog"]),
    ("nonce", ["NonceCache::insert", "auth::nonce::"]),
    ("format_param", ["format_param"]),
    ("params", ["Params::parse", "rpc::params", "form_urlencoded"]),
    ("string_to_sign", ["v1_string_to_sign"]),
    ("hmac_verify", ["V1SigningKey", "v1_verify"]),
    ("credential", ["KeyService::credential", "active_credential"]),
    ("authz", ["authz::", "authorize"]),
    ("core (the action's crypto, key cache)", ["openkms_core::"]),
    ("action glue (parameters, base64, json!)", ["action::", "Action::"]),
    ("reply rendering", ["reply::success", "reply::error", "reply::"]),
    ("request id", ["uuid::", "Uuid", "request_id"]),
    ("metrics and log", ["log_outcome", "metrics::", "metrics_"]),
    ("rest of the handler", ["App::handle", "App::api_call", "handle_request"]),
    ("hyper read (and TLS, kernel)", ["poll_read_head", "Buffered<T,B>::parse", "poll_read"]),
    ("hyper write (and TLS, kernel)", ["poll_write", "poll_flush"]),
    ("tokio scheduling and parking", ["tokio::runtime"]),
]


def strip_generics(name):
    out, depth = [], 0
    for i, c in enumerate(name):
        if c == "<" and (depth > 0 or (i > 0 and (name[i - 1].isalnum() or name[i - 1] in "_:"))):
            depth += 1
            continue
        if c == ">" and depth > 0:
            depth -= 1
            continue
        if depth == 0:
            out.append(c)
    return "".join(out)


def samples(path):
    stacks, current = [], None
    for line in open(path, errors="replace"):
        if line and not line[0].isspace():
            current = []
            stacks.append(current)
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and current is not None:
            current.append(strip_generics(parts[1]))
    return stacks


def bucket(stack):
    for name, patterns in BUCKETS:
        if any(p in frame for frame in stack for p in patterns):
            return name
    return "other"


def main():
    stacks = samples(sys.argv[1])
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    counts = collections.Counter(bucket(s) for s in stacks)
    print(f"samples {len(stacks)}")
    for name, _ in BUCKETS + [("other", None)]:
        share = counts[name] / max(len(stacks), 1)
        extra = f"  {counts[name] * scale:6.2f} µs/request" if scale else ""
        print(f"{name:42s} {100 * share:5.1f}%{extra}")
    if len(sys.argv) > 3:
        depth = int(sys.argv[4]) if len(sys.argv) > 4 else 3
        hot = collections.Counter(
            " <- ".join(s[: depth + 1]) for s in stacks if bucket(s) == sys.argv[3]
        )
        for stack, n in hot.most_common(30):
            print(f"{n:5d} {stack[:220]}")


if __name__ == "__main__":
    main()
