#!/usr/bin/env python3
"""A small S3 server for tests: buckets are the directories under --root, objects their files.

What it speaks (https://docs.aws.amazon.com/AmazonS3/latest/API/): HEAD and GET Object with one
range (bytes=A-B, A-, -N), If-Match (412 PreconditionFailed when the ETag differs), and
ListObjectsV2 (prefix, delimiter, max-keys, continuation-token). ETags are the MD5 of the content.
With --access-key/--secret-key every request must carry a valid AWS SigV4 Authorization header
(checked here independently of the client: canonical request, string to sign, HMAC chain) and an
x-amz-date within 15 minutes of this machine's clock; --anonymous also lets unsigned requests in.
Faults: --slowdown N answers the first N requests 503 SlowDown; --clock-offset S puts this
server's clock S seconds ahead (RequestTimeTooSkewed past 15 minutes). Errors are S3's XML bodies.

Prints "listening PORT" once ready. --log FILE gets one line per request:
METHOD PATH STATUS "RANGE" "IF-MATCH" "QUERY".
"""
import argparse, datetime, hashlib, hmac, http.server, os, sys, threading, urllib.parse
from xml.sax.saxutils import escape

def uri_encode(text, keep_slash):
    return urllib.parse.quote(text, safe="/~" if keep_slash else "~")

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, status):
        if self.server.log:
            q = urllib.parse.urlsplit(self.path).query
            with self.server.lock, open(self.server.log, "a") as f:
                f.write('%s %s %d "%s" "%s" "%s"\n' % (self.command, urllib.parse.urlsplit(self.path).path, status,
                                                   self.headers.get("Range", "-"), self.headers.get("If-Match", "-"), q))

    def send(self, status, body=b"", headers=None, head=False):
        self.record(status)
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if not (headers and "Content-Length" in headers):  # a HEAD names the object's length itself
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def error(self, status, code, message, resource=""):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource>'
                '<RequestId>0</RequestId></Error>' % (code, escape(message), escape(resource))).encode()
        self.send(status, body, {"Content-Type": "application/xml"}, head=self.command == "HEAD")

    def check_signature(self):
        auth = self.headers.get("Authorization")
        if not auth:
            if self.server.anonymous or not self.server.secret:
                return True
            self.error(403, "AccessDenied", "Access Denied")
            return False
        try:
            algorithm, rest = auth.split(" ", 1)
            fields = dict(part.strip().split("=", 1) for part in rest.split(","))
            access, day, region, service, _ = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
        except Exception:
            self.error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed")
            return False
        if access != self.server.access:
            self.error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
            return False
        stamp = self.headers.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            self.error(403, "AccessDenied", "x-amz-date is missing or malformed")
            return False
        now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.server.clock_offset)
        if abs((now - when).total_seconds()) > 900:
            self.error(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
            return False
        parts = urllib.parse.urlsplit(self.path)
        path = uri_encode(urllib.parse.unquote(parts.path), True)
        items = sorted((uri_encode(k, False), uri_encode(v, False))
                       for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        query = "&".join("%s=%s" % kv for kv in items)
        lines = "".join("%s:%s\n" % (h, " ".join(self.headers.get(h, "").split())) for h in signed)
        payload = self.headers.get("x-amz-content-sha256", hashlib.sha256(b"").hexdigest())  # GET and HEAD have no body
        canonical = "\n".join([self.command, path, query, lines, ";".join(signed), payload])
        scope = "/".join([day, region, service, "aws4_request"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.server.secret).encode()
        for part in (day, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        if hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest() != fields.get("Signature"):
            self.error(403, "SignatureDoesNotMatch",
                       "The request signature we calculated does not match the signature you provided.")
            return False
        return True

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        with self.server.lock:
            self.server.requests += 1
            slow = self.server.requests <= self.server.slowdown
        if slow:
            return self.error(503, "SlowDown", "Please reduce your request rate.")
        if not self.check_signature():
            return
        parts = urllib.parse.urlsplit(self.path)
        segments = urllib.parse.unquote(parts.path).lstrip("/").split("/", 1)
        bucket, key = segments[0], segments[1] if len(segments) > 1 else ""
        bucket_dir = os.path.join(self.server.root, bucket)
        if not bucket or not os.path.isdir(bucket_dir):
            return self.error(404, "NoSuchBucket", "The specified bucket does not exist", "/" + bucket)
        if not key:
            return self.list_objects(bucket_dir, urllib.parse.parse_qs(parts.query, keep_blank_values=True))
        path = os.path.join(bucket_dir, key)
        if not os.path.isfile(path):
            return self.error(404, "NoSuchKey", "The specified key does not exist.", "/%s/%s" % (bucket, key))
        size = os.path.getsize(path)
        etag = '"%s"' % self.server.md5_of(path)
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream",
                   "Last-Modified": self.date_time_string(os.path.getmtime(path))}
        wanted = self.headers.get("If-Match")
        if wanted and wanted.strip() != etag and wanted.strip() != "*":
            return self.error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        rng = self.headers.get("Range")
        if rng and self.command == "GET":
            spec = rng.strip()[len("bytes="):]
            if "," in spec:
                spec = spec.split(",")[0]  # S3 serves the first range only
            a, b = spec.split("-")
            if a == "":
                first, last = max(0, size - int(b)), size - 1
            else:
                first, last = int(a), (int(b) if b else size - 1)
            last = min(last, size - 1)
            if first >= size:
                return self.error(416, "InvalidRange", "The requested range is not satisfiable")
            headers["Content-Range"] = "bytes %d-%d/%d" % (first, last, size)
            return self.send_file(206, path, first, last + 1 - first, headers)
        if self.command == "HEAD":
            headers["Content-Length"] = str(size)
            return self.send(200, b"", headers, head=True)
        self.send_file(200, path, 0, size, headers)

    def send_file(self, status, path, offset, length, headers):
        # Streams the range from the file (never the whole object into memory).
        self.record(status)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(offset)
            while length > 0:
                block = f.read(min(length, 1 << 20))
                if not block:
                    break
                self.wfile.write(block)
                length -= len(block)

    def list_objects(self, bucket_dir, q):
        prefix = q.get("prefix", [""])[0]
        delimiter = q.get("delimiter", [""])[0]
        max_keys = min(int(q.get("max-keys", ["1000"])[0]), self.server.max_keys)
        after = q.get("continuation-token", [""])[0]
        keys = []
        for base, _, files in os.walk(bucket_dir):
            for name in files:
                keys.append(os.path.relpath(os.path.join(base, name), bucket_dir))
        entries = []  # (key, is_prefix)
        seen = set()
        for key in sorted(keys):
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if common not in seen:
                    seen.add(common)
                    entries.append((common, True))
            else:
                entries.append((key, False))
        entries = [e for e in entries if e[0] > after]
        page, more = entries[:max_keys], len(entries) > max_keys
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix>'
               '<KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys><IsTruncated>%s</IsTruncated>'
               % (escape(os.path.basename(bucket_dir)), escape(prefix), len(page), max_keys, "true" if more else "false")]
        for key, is_prefix in page:
            if is_prefix:
                out.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>" % escape(key))
            else:
                p = os.path.join(bucket_dir, key)
                etag = self.server.md5_of(p)
                mtime = datetime.datetime.fromtimestamp(os.path.getmtime(p), datetime.timezone.utc)
                out.append("<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag><Size>%d</Size>"
                           "<StorageClass>STANDARD</StorageClass></Contents>"
                           % (escape(key), mtime.strftime("%Y-%m-%dT%H:%M:%S.000Z"), etag, os.path.getsize(p)))
        if more:
            out.append("<NextContinuationToken>%s</NextContinuationToken>" % escape(page[-1][0]))
        out.append("</ListBucketResult>")
        self.send(200, "".join(out).encode(), {"Content-Type": "application/xml"})

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def md5_of(self, path):
        # ETags are MD5s of the content, computed once per version of a file (size, mtime).
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
        with self.lock:
            if key in self.etags:
                return self.etags[key]
        h = hashlib.md5()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        with self.lock:
            self.etags[key] = h.hexdigest()
        return self.etags[key]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", default="")
    ap.add_argument("--secret-key", default="")
    ap.add_argument("--anonymous", action="store_true")
    ap.add_argument("--slowdown", type=int, default=0)
    ap.add_argument("--max-keys", type=int, default=1000)
    ap.add_argument("--log", default="")
    ap.add_argument("--clock-offset", type=int, default=0, help="seconds this server's clock is ahead (skew tests)")
    a = ap.parse_args()
    server = Server(("127.0.0.1", a.port), Handler)
    server.etags = {}
    server.root, server.access, server.secret = a.root, a.access_key, a.secret_key
    server.anonymous, server.slowdown, server.max_keys, server.log = a.anonymous, a.slowdown, a.max_keys, a.log
    server.lock, server.requests, server.clock_offset = threading.Lock(), 0, a.clock_offset
    print("listening %d" % server.server_address[1], flush=True)
    server.serve_forever()

if __name__ == "__main__":
    main()
