#include "cachepaths.h"

#include <QCryptographicHash>
#include <QDir>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrlQuery>

namespace sparsescope::cachepaths {

QUrl sourceUrl(const QString &text)
{
    static const QRegularExpression scheme(QStringLiteral("^[A-Za-z][A-Za-z0-9+.-]*://"));
    if (scheme.match(text).hasMatch())
        return QUrl(text, QUrl::StrictMode);
    return QUrl::fromLocalFile(QDir(text).absolutePath());
}

QUrl canonicalSource(const QUrl &source)
{
    QUrl u = source.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveFragment | QUrl::NormalizePathSegments);
    if (u.isLocalFile())
        u = QUrl::fromLocalFile(QDir::cleanPath(QDir(u.toLocalFile()).absolutePath()));
    return u;
}

QString redactedSource(const QUrl &source)
{
    QUrl u = canonicalSource(source);
    if (u.hasQuery()) {
        static const QStringList sensitive = {QStringLiteral("token"), QStringLiteral("sig"), QStringLiteral("signature"),
                                              QStringLiteral("key"), QStringLiteral("password"), QStringLiteral("passwd"),
                                              QStringLiteral("secret"), QStringLiteral("auth"), QStringLiteral("credential"),
                                              QStringLiteral("session")};
        QUrlQuery q(u);
        QList<std::pair<QString, QString>> items = q.queryItems(QUrl::FullyEncoded);
        for (auto &[k, v] : items) {
            const QString lower = k.toLower();
            bool hide = lower.startsWith(QStringLiteral("x-amz-")) || lower.startsWith(QStringLiteral("x-goog-"));
            for (const QString &s : sensitive)
                hide = hide || lower.contains(s);
            if (hide)
                v = QStringLiteral("REDACTED");
        }
        q.setQueryItems(items);
        u.setQuery(q);
    }
    return u.isLocalFile() ? u.toLocalFile() : u.toString(QUrl::FullyEncoded);
}

QString objectId(const QUrl &source)
{
    const QByteArray canonical = canonicalSource(source).toEncoded();
    return QString::fromLatin1(QCryptographicHash::hash(canonical, QCryptographicHash::Sha256).toHex().left(32));
}

QString objectsRoot(const QString &cacheDir) { return QDir(cacheDir).absoluteFilePath(QStringLiteral("objects")); }

QString objectDirectory(const QString &cacheDir, const QUrl &source)
{
    return objectsRoot(cacheDir) + u'/' + objectId(source);
}

QString defaultCacheDirectory()
{
    const QByteArray env = qgetenv("SPARSESCOPE_CACHE_DIR");
    if (!env.isEmpty())
        return QFile::decodeName(env);
    const QByteArray xdg = qgetenv("XDG_CACHE_HOME");
    const QString base = !xdg.isEmpty() ? QFile::decodeName(xdg) : QDir::homePath() + QStringLiteral("/.cache");
    return base + QStringLiteral("/sparsescope");
}

} // namespace sparsescope::cachepaths
