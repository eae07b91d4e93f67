#include "objectmeta.h"
#include "fileutil.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

namespace sparsescope {

QByteArray ObjectMeta::toJson() const
{
    QJsonObject o;
    o[QStringLiteral("format_version")] = formatVersion;
    o[QStringLiteral("source")] = source;
    o[QStringLiteral("size")] = QString::number(size); // strings: JSON doubles lose bits past 2^53
    o[QStringLiteral("validator")] = validator;
    o[QStringLiteral("chunk_size")] = QString::number(chunkSize);
    return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

Result<ObjectMeta> ObjectMeta::fromJson(const QByteArray &json)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (!doc.isObject())
        return makeError(ErrorKind::Integrity, QStringLiteral("meta.json is not a JSON object (%1)").arg(pe.errorString()));
    const QJsonObject o = doc.object();
    ObjectMeta m;
    m.formatVersion = o.value(QStringLiteral("format_version")).toInt(-1);
    m.source = o.value(QStringLiteral("source")).toString();
    bool okSize = false, okChunk = false;
    m.size = o.value(QStringLiteral("size")).toString().toLongLong(&okSize);
    m.chunkSize = o.value(QStringLiteral("chunk_size")).toString().toLongLong(&okChunk);
    m.validator = o.value(QStringLiteral("validator")).toString();
    if (m.formatVersion != kFormatVersion)
        return makeError(ErrorKind::Integrity, QStringLiteral("meta.json has unsupported format version %1 (this build reads %2)")
                                                   .arg(m.formatVersion).arg(kFormatVersion));
    if (!okSize || !okChunk || m.size < 0 || m.chunkSize <= 0)
        return makeError(ErrorKind::Integrity, QStringLiteral("meta.json has an invalid size or chunk_size"));
    return m;
}

Result<ObjectMeta> ObjectMeta::load(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot read %1: %2").arg(path, f.errorString()));
    return fromJson(f.readAll());
}

Status ObjectMeta::save(const QString &path) const
{
    return writeFileAtomically(path, toJson());
}

} // namespace sparsescope
