#include "cachepaths.h"
#include "awssettings.h"

#include <QCryptographicHash>
#include <QDir>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QUrlQuery>

namespace sparsescope::cachepaths {

QUrl sourceUrl(const QString &text)
{
    if (text.startsWith(QStringLiteral("s3://"), Qt::CaseInsensitive)) {
        // As the AWS CLI writes it: s3://BUCKET/KEY with the key unencoded (spaces, UTF-8, '%'
        // taken literally).
        const QString rest = text.mid(5);
        const qsizetype slash = rest.indexOf(u'/');
        QUrl u;
        u.setScheme(QStringLiteral("s3"));
        u.setHost(slash < 0 ? rest : rest.left(slash));
        u.setPath(u'/' + (slash < 0 ? QString() : rest.mid(slash + 1)), QUrl::DecodedMode);
        return u;
    }
    static const QRegularExpression scheme(QStringLiteral("^[A-Za-z][A-Za-z0-9+.-]*://"));
    if (scheme.match(text).hasMatch())
        return QUrl(text, QUrl::StrictMode);
    return QUrl::fromLocalFile(QDir(text).absolutePath());
}

QUrl canonicalSource(const QUrl &source)
{
    if (source.scheme() == u"s3")
        return source; // an S3 key is a name, not a path: "a/../b" and "a//b" are keys of their own
    QUrl u = source.adjusted(QUrl::RemoveUserInfo | QUrl::RemoveFragment | QUrl::NormalizePathSegments);
    if (u.isLocalFile())
        u = QUrl::fromLocalFile(QDir::cleanPath(QDir(u.toLocalFile()).absolutePath()));
    return u;
}

QString redactedSource(const QUrl &source)
{
    if (source.scheme() == u"s3") // as the AWS CLI writes it
        return QStringLiteral("s3://%1%2").arg(source.host(), source.path(QUrl::FullyDecoded));
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
    QByteArray canonical = canonicalSource(source).toEncoded();
    if (source.scheme() == u"s3") // an object's identity is endpoint + bucket + key
        canonical += '@' + aws::endpointIdentity().toUtf8();
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
