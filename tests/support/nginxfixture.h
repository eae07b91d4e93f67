#pragma once
// NginxFixture: a real nginx (Debian's nginx-light) on a free loopback port, with its own config,
// logs and pid in a temporary directory, serving `root()`. Its access log is how tests count the
// upstream requests and bytes SparseScope really caused.
//   /NAME        the file root()/NAME
//   /slow/NAME      the same file at 4 MiB/s per connection (limit_rate), for crash trials
//   /redirect/NAME  302 to /NAME
//   /nohead/NAME    the file, but HEAD is refused with 405
// With enableTls() before start(), the same server also listens for HTTPS with a freshly made
// self-signed certificate for 127.0.0.1 (openssl), whose PEM file is certificatePath().

#include <QList>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>

namespace sparsescope::test {

struct AccessLogEntry {
    QString method;
    QString uri;
    int status = 0;
    qint64 bodyBytes = 0;
    QString range; // "-" when absent
    qint64 connection = 0; // nginx's serial number of the connection that carried the request
};

class NginxFixture {
public:
    NginxFixture();
    ~NginxFixture();

    // Starts nginx; false (and errorText()) if it cannot. Waits until the port accepts connections.
    bool start();
    QString errorText() const { return m_error; }
    QString root() const { return m_dir.path() + QStringLiteral("/www"); }
    QString url(const QString &name) const;
    void enableTls() { m_tls = true; }
    QString tlsUrl(const QString &name) const;
    QString certificatePath() const { return m_dir.path() + QStringLiteral("/cert.pem"); }
    // Writes `bytes` as root()/name and returns its path.
    QString addFile(const QString &name, const QByteArray &bytes);

    QList<AccessLogEntry> accessLog() const;
    void clearAccessLog();
    qint64 countRequests(const QString &method) const;
    qint64 bodyBytes() const;

private:
    QTemporaryDir m_dir;
    QProcess m_nginx;
    quint16 m_port = 0;
    quint16 m_tlsPort = 0;
    bool m_tls = false;
    QString m_error;
};

// Deterministic pseudo-random bytes (seeded), so that tests can recompute what a file holds.
QByteArray patternBytes(qint64 size, quint32 seed);

} // namespace sparsescope::test
