#include "awssettings.h"

#include <QDir>
#include <QFile>
#include <QHostAddress>
#include <QMap>

#include <functional>

namespace sparsescope::aws {

namespace {
QString env(const char *name) { return qEnvironmentVariable(name); }

QString homeFile(const char *variable, const char *fallback)
{
    const QString set = env(variable);
    return !set.isEmpty() ? set : QDir::homePath() + QLatin1String(fallback);
}

// The keys of section `section` of an AWS INI file ("key = value" lines; '#' and ';' comments).
// Values are taken as written: secrets may hold '/', '+' and '='.
std::optional<QMap<QString, QString>> iniSection(const QString &path, const QString &section)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    std::optional<QMap<QString, QString>> found;
    bool inside = false;
    for (const QByteArray &raw : f.readAll().split('\n')) {
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#') || line.startsWith(u';'))
            continue;
        if (line.startsWith(u'[') && line.endsWith(u']')) {
            inside = line.mid(1, line.size() - 2).simplified() == section;
            if (inside && !found)
                found.emplace();
            continue;
        }
        const qsizetype eq = line.indexOf(u'=');
        if (inside && eq > 0)
            found->insert(line.left(eq).trimmed().toLower(), line.mid(eq + 1).trimmed());
    }
    return found;
}

struct Profile {
    std::optional<QMap<QString, QString>> credentials; // its section of the credentials file
    std::optional<QMap<QString, QString>> config;      // its section of the config file
    QString value(const QString &key) const
    {
        if (credentials && credentials->contains(key))
            return credentials->value(key);
        return config ? config->value(key) : QString();
    }
};

Profile profileNamed(const QString &name)
{
    Profile p;
    p.credentials = iniSection(homeFile("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials"), name);
    p.config = iniSection(homeFile("AWS_CONFIG_FILE", "/.aws/config"),
                          name == u"default" ? name : QStringLiteral("profile %1").arg(name));
    return p;
}

QString profileName()
{
    const QString named = env("AWS_PROFILE");
    return named.isEmpty() ? QStringLiteral("default") : named;
}

// The endpoint in the AWS CLI's order; the profile's files are read only when the environment
// names none (endpointIdentity() runs for every cache identity of an S3 object).
QString endpointText(const std::function<Profile()> &profile)
{
    for (const char *name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})
        if (const QString v = env(name); !v.isEmpty())
            return v;
    return profile().value(QStringLiteral("endpoint_url"));
}
} // namespace

Result<S3Settings> resolveS3Settings()
{
    S3Settings s;
    s.profile = profileName();
    const Profile p = profileNamed(s.profile);
    if (!env("AWS_PROFILE").isEmpty() && !p.credentials && !p.config)
        return makeError(ErrorKind::Usage, QStringLiteral("AWS profile \"%1\" is in neither %2 nor %3")
                                               .arg(s.profile, homeFile("AWS_SHARED_CREDENTIALS_FILE", "/.aws/credentials"),
                                                    homeFile("AWS_CONFIG_FILE", "/.aws/config")));
    if (!env("AWS_ACCESS_KEY_ID").isEmpty()) {
        s.credentials = {env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")};
    } else {
        s.credentials = {p.value(QStringLiteral("aws_access_key_id")), p.value(QStringLiteral("aws_secret_access_key")),
                         p.value(QStringLiteral("aws_session_token"))};
    }
    for (const QString &region : {env("AWS_REGION"), env("AWS_DEFAULT_REGION"), p.value(QStringLiteral("region"))})
        if (!region.isEmpty()) {
            s.region = region;
            break;
        }
    if (const QString endpoint = endpointText([&] { return p; }); !endpoint.isEmpty()) {
        s.endpoint = QUrl(endpoint, QUrl::StrictMode);
        const QString scheme = s.endpoint.scheme().toLower();
        if (!s.endpoint.isValid() || (scheme != u"http" && scheme != u"https") || s.endpoint.host().isEmpty())
            return makeError(ErrorKind::Usage, QStringLiteral("the S3 endpoint \"%1\" is not an http:// or https:// URL "
                                                              "(--endpoint-url, AWS_ENDPOINT_URL_S3 or the profile's endpoint_url)")
                                                   .arg(endpoint));
    }
    return s;
}

QString endpointIdentity()
{
    const QString endpoint = endpointText([] { return profileNamed(profileName()); });
    if (endpoint.isEmpty())
        return QStringLiteral("aws");
    const QUrl u(endpoint);
    return QStringLiteral("%1://%2:%3").arg(u.scheme().toLower(), u.host().toLower()).arg(u.port(u.scheme() == u"https" ? 443 : 80));
}

QUrl objectUrl(const S3Settings &settings, const QString &bucket, const QString &key)
{
    QUrl u;
    const bool custom = !settings.endpoint.isEmpty();
    const bool pathStyle = custom || bucket.contains(u'.') || !QHostAddress(bucket).isNull();
    if (custom) {
        u = settings.endpoint;
        u.setPath(QString()); // any path of the endpoint is not ours to keep
        u.setQuery(QString());
    } else {
        u.setScheme(QStringLiteral("https"));
        u.setHost(pathStyle ? QStringLiteral("s3.%1.amazonaws.com").arg(settings.region)
                            : QStringLiteral("%1.s3.%2.amazonaws.com").arg(bucket, settings.region));
    }
    // DecodedMode: the key is taken literally ('%' stays a '%', spaces and UTF-8 are encoded).
    const QString path = pathStyle ? (key.isEmpty() ? QStringLiteral("/%1").arg(bucket) : QStringLiteral("/%1/%2").arg(bucket, key))
                                   : QStringLiteral("/%1").arg(key);
    u.setPath(path, QUrl::DecodedMode);
    return u;
}

} // namespace sparsescope::aws
