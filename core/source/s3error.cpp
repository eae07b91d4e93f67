#include "s3error.h"

#include <QXmlStreamReader>

namespace sparsescope::s3 {

ErrorBody parseError(const QByteArray &body)
{
    ErrorBody e;
    QXmlStreamReader xml(body);
    if (!xml.readNextStartElement() || xml.name() != u"Error")
        return e;
    while (xml.readNextStartElement()) {
        if (xml.name() == u"Code")
            e.code = xml.readElementText().trimmed();
        else if (xml.name() == u"Message")
            e.message = xml.readElementText().simplified();
        else
            xml.skipCurrentElement();
    }
    return e;
}

QString explain(int status, const QByteArray &body, const QString &bucket, const QString &key)
{
    ErrorBody e = parseError(body);
    if (e.code.isEmpty()) {
        switch (status) {
        case 404: e.code = QStringLiteral("NotFound"); break;
        case 403: e.code = QStringLiteral("Forbidden"); break;
        case 412: e.code = QStringLiteral("PreconditionFailed"); break;
        case 503: e.code = QStringLiteral("SlowDown"); break;
        default: e.code = QStringLiteral("HTTP %1").arg(status);
        }
    }
    QString advice;
    if (e.code == u"NoSuchKey" || e.code == u"NotFound")
        advice = QStringLiteral("check the key \"%1\" (`sparsescope-cli ls s3://%2/` lists the bucket)").arg(key, bucket);
    else if (e.code == u"NoSuchBucket")
        advice = QStringLiteral("check the bucket name \"%1\" and the endpoint (--endpoint-url, AWS_ENDPOINT_URL_S3)").arg(bucket);
    else if (e.code == u"AccessDenied" || e.code == u"Forbidden" || e.code == u"AllAccessDisabled")
        advice = QStringLiteral("check the credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE) and the bucket's policy");
    else if (e.code == u"InvalidAccessKeyId")
        advice = QStringLiteral("check AWS_ACCESS_KEY_ID or the profile's aws_access_key_id");
    else if (e.code == u"SignatureDoesNotMatch")
        advice = QStringLiteral("check AWS_SECRET_ACCESS_KEY or the profile's secret, and the region (AWS_REGION)");
    else if (e.code == u"RequestTimeTooSkewed")
        advice = QStringLiteral("this machine's clock is off by more than 15 minutes: set it right (timedatectl)");
    else if (e.code == u"InvalidRange")
        advice = QStringLiteral("the object may have shrunk upstream");
    else if (e.code == u"SlowDown" || status >= 500)
        advice = QStringLiteral("the service is throttling or failing; retried with backoff, try again later");
    else if (e.code == u"PermanentRedirect" || e.code == u"AuthorizationHeaderMalformed")
        advice = QStringLiteral("the bucket is in another region: set AWS_REGION to it");
    QString sentence = e.message;
    if (sentence.endsWith(u'.'))
        sentence.chop(1); // the advice follows after a semicolon
    const QString what = sentence.isEmpty() ? e.code : QStringLiteral("%1: %2").arg(e.code, sentence);
    return advice.isEmpty() ? what : QStringLiteral("%1; %2").arg(what, advice);
}

} // namespace sparsescope::s3
