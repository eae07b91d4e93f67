#pragma once
// S3 error responses (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html): the
// XML body <Error><Code>…</Code><Message>…</Message></Error> turned into one line that says what
// happened and what to do. Pure functions; thread affinity: none.

#include <QByteArray>
#include <QString>

namespace sparsescope::s3 {

struct ErrorBody {
    QString code;    // e.g. "NoSuchKey"; empty if the body is not an S3 error
    QString message; // the server's own sentence
};

ErrorBody parseError(const QByteArray &body);

// "CODE: MESSAGE; WHAT TO DO" for an error answer with `status` and `body` (a HEAD has no body:
// then by status alone), naming no secret. `bucket` and `key` go into the advice.
QString explain(int status, const QByteArray &body, const QString &bucket, const QString &key);

} // namespace sparsescope::s3
