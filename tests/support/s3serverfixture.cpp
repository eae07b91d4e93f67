#include "s3serverfixture.h"

#include "listeningchild.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>

namespace sparsescope::test {

S3ServerFixture::~S3ServerFixture() { stop(); }

void S3ServerFixture::stop()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

bool S3ServerFixture::start(const QStringList &extra)
{
    QDir().mkpath(root());
    m_port = startListeningChild(m_process, QStringLiteral("python3"), QStringList{QStringLiteral(SPARSESCOPE_S3SERVER_PATH), QStringLiteral("--root"), root(),
                                                           QStringLiteral("--access-key"), accessKey(), QStringLiteral("--secret-key"),
                                                           secretKey(), QStringLiteral("--log"), m_dir.filePath(QStringLiteral("log"))} +
                                                   extra, &m_error);
    return m_port != 0;
}

void S3ServerFixture::put(const QString &bucket, const QString &key, const QByteArray &bytes)
{
    const QString path = root() + u'/' + bucket + u'/' + key;
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    f.open(QIODevice::WriteOnly | QIODevice::Truncate);
    f.write(bytes);
}

QStringList S3ServerFixture::environment() const
{
    return {QStringLiteral("AWS_ACCESS_KEY_ID=") + accessKey(), QStringLiteral("AWS_SECRET_ACCESS_KEY=") + secretKey(),
            QStringLiteral("AWS_ENDPOINT_URL_S3=") + endpoint(), QStringLiteral("AWS_REGION=us-east-1"),
            QStringLiteral("AWS_CONFIG_FILE=/dev/null"), QStringLiteral("AWS_SHARED_CREDENTIALS_FILE=/dev/null")};
}

void S3ServerFixture::exportEnvironment() const
{
    for (const QString &kv : environment())
        qputenv(kv.section(u'=', 0, 0).toUtf8().constData(), kv.section(u'=', 1).toUtf8());
}

QList<S3LogEntry> S3ServerFixture::log() const
{
    QList<S3LogEntry> out;
    QFile f(m_dir.filePath(QStringLiteral("log")));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    static const QRegularExpression re(QStringLiteral("^(\\S+) (\\S+) (\\d+) \"([^\"]*)\" \"(.*)\" \"([^\"]*)\"$"));
    for (const QByteArray &line : f.readAll().split('\n')) {
        const auto m = re.match(QString::fromUtf8(line));
        if (!m.hasMatch())
            continue;
        out.append({m.captured(1), QUrl::fromPercentEncoding(m.captured(2).toUtf8()), m.captured(4), m.captured(5), m.captured(6),
                    m.captured(3).toInt()});
    }
    return out;
}

void S3ServerFixture::clearLog() { QFile::remove(m_dir.filePath(QStringLiteral("log"))); }

} // namespace sparsescope::test
