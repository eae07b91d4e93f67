// libFuzzer target: the HTTP response checks (httpresponse.h) — Content-Range parsing, the range
// response check, Retry-After and If-Range selection — on arbitrary header values. Input: lines
// "content-range\ncontent-length\ncontent-encoding\ncontent-type\nretry-after\netag\nstatus".
// Invariants: a parsed Content-Range is ordered and inside its total; an accepted response
// delivers exactly the bytes asked for; weak ETags never become If-Range validators.
#include "httpresponse.h"

#include <QList>

#include <cstdint>
#include <cstdlib>

using namespace sparsescope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const QList<QByteArray> f = input.split('\n');
    const QByteArray contentRange = f.value(0);

    if (auto cr = http::parseContentRange(contentRange); cr.ok()) {
        if (cr->first < 0 || cr->last < cr->first || (cr->complete >= 0 && cr->last >= cr->complete))
            std::abort();
    }

    http::RangeResponse r;
    r.contentRange = contentRange;
    r.contentLength = f.value(1);
    r.contentEncoding = f.value(2);
    r.contentType = f.value(3);
    r.status = f.value(6).left(3).toInt();
    const ByteRange asked{100, 200};
    const qint64 objectSize = 1000;
    if (http::checkRangeResponse(QStringLiteral("fuzz"), asked, objectSize, r).ok()) {
        auto cr = http::parseContentRange(contentRange);
        if (!cr.ok() || r.status != 206 || cr->first != asked.begin || cr->last != asked.end - 1)
            std::abort();
    }

    const QDateTime now(QDate(2026, 1, 1), QTime(0, 0), Qt::UTC);
    if (http::retryAfterMs(f.value(4), now) < -1)
        std::abort();

    const QByteArray etag = f.value(5);
    const QString validator = http::validatorOf(etag, QByteArray());
    if (http::ifRangeFor(validator).startsWith("W/") || !http::sameValidator(validator, validator))
        std::abort();
    return 0;
}
