#include "cachesettings.h"
#include "fileutil.h"
#include "rangeparse.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

namespace sparsescope {

namespace {
const QString kMaxSize = QStringLiteral("max-size");
const QString kMinFreeSpace = QStringLiteral("min-free-space");

Status unknownKey(const QString &key)
{
    return makeError(ErrorKind::Usage, QStringLiteral("unknown setting \"%1\" (the settings are: %2)").arg(key, CacheSettings::keys().join(QStringLiteral(", "))));
}
} // namespace

QStringList CacheSettings::keys() { return {kMaxSize, kMinFreeSpace}; }

QString CacheSettings::path(const QString &cacheDir) { return cacheDir + QStringLiteral("/config.json"); }

Result<CacheSettings> CacheSettings::load(const QString &cacheDir)
{
    CacheSettings s;
    QFile f(path(cacheDir));
    if (!f.exists())
        return s;
    if (!f.open(QIODevice::ReadOnly))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot read %1: %2").arg(f.fileName(), f.errorString()));
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    const auto bad = [&](const QString &why) {
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: %2; fix it with `sparsescope-cli config KEY VALUE` or delete it "
                                                              "to go back to the defaults").arg(f.fileName(), why));
    };
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return bad(QStringLiteral("not a JSON object (%1)").arg(pe.errorString()));
    const QJsonObject o = doc.object();
    const QJsonValue max = o.value(kMaxSize);
    if (max.isDouble() && max.toDouble() > 0)
        s.maxSize = qint64(max.toDouble());
    else if (!max.isNull() && !max.isUndefined())
        return bad(QStringLiteral("max-size must be a positive number of bytes or null"));
    const QJsonValue floor = o.value(kMinFreeSpace);
    if (floor.isDouble() && floor.toDouble() >= 0)
        s.minFreeSpace = qint64(floor.toDouble());
    else if (!floor.isUndefined())
        return bad(QStringLiteral("min-free-space must be a number of bytes"));
    return s;
}

Status CacheSettings::save(const QString &cacheDir) const
{
    if (Status st = makePrivateDirectory(cacheDir); !st)
        return st;
    QJsonObject o;
    o.insert(kMaxSize, maxSize ? QJsonValue(double(*maxSize)) : QJsonValue(QJsonValue::Null));
    o.insert(kMinFreeSpace, double(minFreeSpace));
    return writeFileAtomically(path(cacheDir), QJsonDocument(o).toJson());
}

Result<QString> CacheSettings::value(const QString &key) const
{
    if (key == kMaxSize)
        return maxSize ? QString::number(*maxSize) : QStringLiteral("none");
    if (key == kMinFreeSpace)
        return QString::number(minFreeSpace);
    return unknownKey(key).error();
}

Status CacheSettings::set(const QString &key, const QString &text)
{
    const QString t = text.trimmed();
    if (key == kMaxSize) {
        if (t.compare(QStringLiteral("none"), Qt::CaseInsensitive) == 0) {
            maxSize.reset();
            return okStatus();
        }
        auto n = parseSize(t);
        if (!n)
            return makeError(ErrorKind::Usage, QStringLiteral("max-size: invalid value \"%1\" (expected a size such as 256M or 20G, or none)").arg(text));
        maxSize = *n;
        return okStatus();
    }
    if (key == kMinFreeSpace) {
        if (t == u"0") {
            minFreeSpace = 0;
            return okStatus();
        }
        auto n = parseSize(t);
        if (!n)
            return makeError(ErrorKind::Usage, QStringLiteral("min-free-space: invalid value \"%1\" (expected a size such as 1G or 500M, or 0)").arg(text));
        minFreeSpace = *n;
        return okStatus();
    }
    return unknownKey(key);
}

QString CacheSettings::sizeText(qint64 bytes)
{
    static const char suffixes[] = {'T', 'G', 'M', 'K'};
    for (int i = 0; i < 4; ++i) {
        const qint64 unit = qint64(1) << (40 - 10 * i);
        if (bytes >= unit && bytes % unit == 0)
            return QString::number(bytes / unit) + QLatin1Char(suffixes[i]);
    }
    return QString::number(bytes);
}

} // namespace sparsescope
