#pragma once
// The S3 test server of tests/support/s3server.py in a child process: buckets are directories of
// root(), SigV4 is checked with accessKey()/secretKey(), and its log records every request.

#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

namespace sparsescope::test {

struct S3LogEntry {
    QString method, path, range, ifMatch, query;
    int status = 0;
};

class S3ServerFixture {
public:
    S3ServerFixture() = default;
    ~S3ServerFixture();
    // `extra`: more arguments (e.g. --slowdown 2). False (and errorText()) if it cannot start.
    bool start(const QStringList &extra = {});
    void stop();
    QString errorText() const { return m_error; }
    QString root() const { return m_dir.filePath(QStringLiteral("root")); }
    QString endpoint() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }
    static QString accessKey() { return QStringLiteral("AKIDTESTKEY"); }
    static QString secretKey() { return QStringLiteral("test/secret+key=Q"); }
    // Writes `bytes` as root()/bucket/key (directories made as needed).
    void put(const QString &bucket, const QString &key, const QByteArray &bytes);
    // The environment a client needs: keys, endpoint, region, and no profile files of this machine.
    QStringList environment() const;
    // Sets environment() in this process (for engine and app code running in the test itself).
    void exportEnvironment() const;
    QList<S3LogEntry> log() const;
    void clearLog();

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace sparsescope::test
