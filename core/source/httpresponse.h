#pragma once
// Checks of HTTP range responses against RFC 9110: §14.4 (Content-Range), §14.2 (Range),
// §15.3.7 (206 Partial Content), §13.1.5 (If-Range with strong validators only), §8.8.3 (ETag).
// Pure functions, no I/O; used by HttpSource and by the tests.

#include "byterange.h"
#include "result.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <optional>

namespace sparsescope::http {

struct ContentRange {
    qint64 first = 0;     // inclusive
    qint64 last = 0;      // inclusive
    qint64 complete = -1; // complete length, -1 for "*"
};

// Parses "bytes FIRST-LAST/COMPLETE" (COMPLETE may be "*"). Rejects "bytes */N" (unsatisfied
// form, only valid in 416), last < first, and last >= complete.
Result<ContentRange> parseContentRange(const QByteArray &value);

// "bytes=FIRST-LAST" for a half-open range (RFC 9110 §14.1.2).
QByteArray rangeHeader(ByteRange range);

// The validator we store (SourceInfo::validator): a strong ETag, else a weak ETag (W/"..."), else
// Last-Modified, else empty.
QString validatorOf(const QByteArray &etag, const QByteArray &lastModified);
// The If-Range value (§13.1.5) for a stored validator: a strong ETag or a Last-Modified date as it
// is; nothing for a weak ETag, which If-Range must not carry. Without If-Range the response's own
// validators are compared with the stored one instead (sameValidator).
QByteArray ifRangeFor(const QString &validator);
// Whether the validator of a response still names the stored one: ETags by the weak comparison
// (§8.8.3.2: W/"x" matches "x", so Apache's weak ETag of a fresh file matches its later strong
// one), dates and other values exactly.
bool sameValidator(const QString &stored, const QString &now);
// True when `now` is the strong form of the weak `stored` ETag (Apache's W/"x" of a file modified
// a moment before, then "x"): the stored one may become `now`, so that If-Range can be sent again.
bool strengthens(const QString &stored, const QString &now);

// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in milliseconds from `now`
// (0 for a date in the past); -1 when the value is absent or neither form.
qint64 retryAfterMs(const QByteArray &value, const QDateTime &now);

// One part of a multipart/byteranges body: its Content-Range and its bytes.
struct BytePart {
    ContentRange range;
    QByteArray bytes; // exactly range.last - range.first + 1 bytes
};

// The boundary parameter of a `multipart/byteranges` Content-Type (RFC 2046 §5.1.1; quoted or
// not), or empty when the type is another or has none.
QByteArray multipartBoundary(const QByteArray &contentType);

// Parses a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1) delimited by `boundary`:
// a preamble, then parts, each "--BOUNDARY" CRLF, header lines, CRLF, the body, then CRLF before
// the next delimiter, ended by "--BOUNDARY--" (an epilogue is ignored). Each part's length is
// taken from its Content-Range (required: "bytes FIRST-LAST/COMPLETE"), so a boundary-like
// sequence inside binary bytes cannot end it early. Strict: a part without Content-Range, with a
// content coding other than identity, with fewer bytes than its range, or not followed by a
// delimiter is an error (Upstream, naming what is wrong), as is a body without a closing delimiter.
Result<QList<BytePart>> parseMultipartByteranges(const QByteArray &boundary, const QByteArray &body);

// The Content-Length of the final response from the raw header Qt reports: after a redirect, Qt
// 6.4 may join the redirect response's value to the final one's ("145, 262144"), the final one
// last. The last element of such a list; the value as it is otherwise (the checks that follow, and
// the count of body bytes received, still hold the response to it).
QByteArray finalContentLength(const QByteArray &raw);

// The Changed error for a response that reports another size than the object had: `where` names
// the object (and range), `reported` and `had` are bytes.
Error sizeChanged(const QString &where, qint64 reported, qint64 had);

// The bytes of `range` from the parts of a multipart/byteranges answer, which a server may have
// merged into fewer, larger parts (RFC 9110 §14.2); nullopt when no part holds all of it. The view
// points into `parts`.
std::optional<QByteArrayView> bytesIn(const QList<BytePart> &parts, ByteRange range);
// Changed (sizeChanged, naming `where`) when a part reports another complete length than `objectSize`.
Status checkPartSizes(const QString &where, const QList<BytePart> &parts, qint64 objectSize);

struct RangeResponse {
    int status = 0;
    QByteArray contentRange;
    QByteArray contentLength;   // empty if absent
    QByteArray contentEncoding; // empty if absent
    QByteArray contentType;
};

// Checks that `response` delivers exactly `requested` of an object of `objectSize` bytes:
// status 206, Content-Range naming the same first byte and the same last byte (clamped only at
// the end of the object), the same complete length, a matching Content-Length, no content coding
// other than identity, and no multipart/byteranges body. `object` names the object in messages.
// Errors: Changed when the status is 200 (the range was ignored or If-Range failed) or the
// complete length differs; Upstream for everything else, naming range and what the server did.
Status checkRangeResponse(const QString &object, ByteRange requested, qint64 objectSize, const RangeResponse &response);

} // namespace sparsescope::http
