#pragma once
// AWS Signature Version 4 (AWS4-HMAC-SHA256) for S3 requests, in-tree with OpenSSL's HMAC and
// SHA-256 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html;
// S3 specifics: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):
// the canonical request (method, URI-encoded path — each segment once, '/' kept, as S3 wants it —,
// sorted and encoded query, lower-cased sorted headers, signed header list, payload hash), the
// string to sign over the scope DATE/REGION/SERVICE/aws4_request, and the signing key derived
// from the secret by four HMACs.
//
// Pure functions; thread affinity: none. Secrets appear only in the derived key, never in output
// other than the signature.

#include "awssettings.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QUrl>

#include <utility>

namespace sparsescope::sigv4 {

using Headers = QList<std::pair<QByteArray, QByteArray>>; // name, value (any case; values trimmed when signed)

// SHA-256 of an empty payload (the body of GET and HEAD), lower-case hex.
inline constexpr const char *kEmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The headers to add to a request of `method` on `url` that already carries `headers` (which are
// signed too — pass only those that must be, e.g. none but what S3 requires): x-amz-date,
// x-amz-content-sha256, x-amz-security-token (temporary credentials) and Authorization. `now` is
// the signing time (UTC). With empty credentials: no headers (an unsigned request).
Headers sign(const QByteArray &method, const QUrl &url, const Headers &headers, const aws::Credentials &credentials,
             const QString &region, const QDateTime &now, const QByteArray &service = "s3");

// The canonical request of the above (for tests and for a server that checks signatures).
QByteArray canonicalRequest(const QByteArray &method, const QUrl &url, const Headers &signedHeaders, const QByteArray &payloadHash);

} // namespace sparsescope::sigv4
