#include "rangeparse.h"

#include <limits>

namespace sparsescope {

namespace {
bool parseOffset(QStringView text, qint64 *out)
{
    if (text.isEmpty() || text.size() > 19)
        return false;
    for (QChar c : text)
        if (c < u'0' || c > u'9')
            return false;
    bool ok = false;
    const qulonglong v = text.toULongLong(&ok);
    if (!ok || v > static_cast<qulonglong>(std::numeric_limits<qint64>::max()))
        return false;
    *out = static_cast<qint64>(v);
    return true;
}
} // namespace

Result<ByteRange> parseInclusiveRange(const QString &text, qint64 objectSize)
{
    const QString t = text.trimmed();
    const qsizetype dash = t.indexOf(u'-');
    auto bad = [&](const QString &why) {
        return makeError(ErrorKind::Usage,
                         QStringLiteral("invalid range \"%1\": %2 (expected START-END or START-, "
                                        "inclusive byte offsets)").arg(text, why));
    };
    if (dash < 0)
        return bad(QStringLiteral("no '-'"));
    qint64 start = 0;
    if (!parseOffset(QStringView(t).left(dash), &start))
        return bad(QStringLiteral("START is not a non-negative decimal number"));
    const QStringView endText = QStringView(t).mid(dash + 1);
    qint64 end = -1;
    if (!endText.isEmpty()) {
        qint64 last = 0;
        if (!parseOffset(endText, &last))
            return bad(QStringLiteral("END is not a non-negative decimal number"));
        if (last < start)
            return bad(QStringLiteral("END is before START"));
        if (last == std::numeric_limits<qint64>::max())
            return bad(QStringLiteral("END is too large"));
        end = last + 1;
    }
    if (objectSize >= 0) {
        if (start >= objectSize)
            return makeError(ErrorKind::Usage,
                             QStringLiteral("range %1 starts past the end of the object (size %2 bytes, "
                                            "last offset %3)").arg(text).arg(objectSize).arg(objectSize - 1));
        if (end < 0)
            end = objectSize;
        if (end > objectSize)
            return makeError(ErrorKind::Usage,
                             QStringLiteral("range %1 ends past the end of the object (size %2 bytes, "
                                            "last offset %3)").arg(text).arg(objectSize).arg(objectSize - 1));
    }
    return ByteRange{start, end};
}

Result<qint64> parseSize(const QString &text)
{
    QString t = text.trimmed();
    qint64 unit = 1;
    const QString upper = t.toUpper();
    struct Suffix { const char16_t *s; qint64 unit; };
    static const Suffix suffixes[] = {{u"KIB", 1LL << 10}, {u"MIB", 1LL << 20}, {u"GIB", 1LL << 30}, {u"TIB", 1LL << 40},
                                      {u"K", 1LL << 10},   {u"M", 1LL << 20},   {u"G", 1LL << 30},   {u"T", 1LL << 40},
                                      {u"B", 1}};
    for (const Suffix &s : suffixes) {
        const QString suffix = QString::fromUtf16(s.s);
        if (upper.endsWith(suffix)) {
            unit = s.unit;
            t.chop(suffix.size());
            break;
        }
    }
    qint64 n = 0;
    if (!parseOffset(QStringView(t), &n) || n == 0 || n > std::numeric_limits<qint64>::max() / unit)
        return makeError(ErrorKind::Usage,
                         QStringLiteral("invalid size \"%1\" (expected a positive number with an optional "
                                        "K, M, G or T suffix, e.g. 256K)").arg(text));
    return n * unit;
}

QString formatBytes(qint64 bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    if (u == 0)
        return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(v, 0, 'f', 1).arg(QLatin1String(units[u]));
}

} // namespace sparsescope
