#include "nginxfixture.h"

#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTextStream>
#include <QThread>

#include <unistd.h>

namespace sparsescope::test {

NginxFixture::NginxFixture() = default;

NginxFixture::~NginxFixture()
{
    if (m_nginx.state() != QProcess::NotRunning) {
        m_nginx.terminate();
        if (!m_nginx.waitForFinished(5000))
            m_nginx.kill();
        m_nginx.waitForFinished(2000);
    }
}

bool NginxFixture::start()
{
    const QString nginx = QStringLiteral("/usr/sbin/nginx");
    if (!QFile::exists(nginx)) {
        m_error = QStringLiteral("nginx not found at /usr/sbin/nginx (apt-get install nginx-light)");
        return false;
    }
    QDir(m_dir.path()).mkpath(QStringLiteral("www"));
    QDir(m_dir.path()).mkpath(QStringLiteral("tmp"));
    if (m_tls) {
        QProcess openssl;
        openssl.start(QStringLiteral("openssl"), {QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"), QStringLiteral("rsa:2048"),
                                                  QStringLiteral("-nodes"), QStringLiteral("-days"), QStringLiteral("2"),
                                                  QStringLiteral("-subj"), QStringLiteral("/CN=127.0.0.1"),
                                                  QStringLiteral("-addext"), QStringLiteral("subjectAltName=IP:127.0.0.1"),
                                                  QStringLiteral("-keyout"), m_dir.path() + QStringLiteral("/key.pem"),
                                                  QStringLiteral("-out"), certificatePath()});
        if (!openssl.waitForFinished(30000) || openssl.exitCode() != 0) {
            m_error = QStringLiteral("openssl could not make a certificate: ") + QString::fromUtf8(openssl.readAllStandardError());
            return false;
        }
    }
    for (int attempt = 0; attempt < 5; ++attempt) {
        {
            QTcpServer probe, tlsProbe; // free ports: bind to 0, read them, let them go
            probe.listen(QHostAddress::LocalHost, 0);
            tlsProbe.listen(QHostAddress::LocalHost, 0);
            m_port = probe.serverPort();
            m_tlsPort = tlsProbe.serverPort();
        }
        const QString d = m_dir.path();
        QFile conf(d + QStringLiteral("/nginx.conf"));
        conf.open(QIODevice::WriteOnly | QIODevice::Truncate);
        QTextStream c(&conf);
        if (::geteuid() == 0)
            c << "user root;\n";
        c << "worker_processes 1;\ndaemon off;\npid " << d << "/nginx.pid;\nerror_log " << d << "/error.log;\n"
          << "events { worker_connections 512; }\nhttp {\n"
          << "  log_format ss '$request_method $uri $status $body_bytes_sent $connection \"$http_range\"';\n"
          << "  access_log " << d << "/access.log ss;\n"
          << "  client_body_temp_path " << d << "/tmp/body; proxy_temp_path " << d << "/tmp/proxy;\n"
          << "  fastcgi_temp_path " << d << "/tmp/fcgi; uwsgi_temp_path " << d << "/tmp/uwsgi; scgi_temp_path " << d << "/tmp/scgi;\n"
          << "  sendfile on; keepalive_requests 10000;\n"
          << "  server {\n    listen 127.0.0.1:" << m_port << " sndbuf=128k;\n    root " << root() << ";\n";
        if (m_tls)
            c << "    listen 127.0.0.1:" << m_tlsPort << " ssl;\n    ssl_certificate " << certificatePath() << ";\n"
              << "    ssl_certificate_key " << d << "/key.pem;\n";
        c
          << "    location /slow/ { alias " << root() << "/; limit_rate 4m; sendfile off; }\n"
          << "    location /redirect/ { rewrite ^/redirect/(.*)$ /$1 redirect; }\n"
          << "    location /nohead/ { alias " << root() << "/; if ($request_method = HEAD) { return 405; } }\n"
          << "  }\n}\n";
        c.flush();
        conf.close();
        m_nginx.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_nginx.start(nginx, {QStringLiteral("-p"), d, QStringLiteral("-c"), d + QStringLiteral("/nginx.conf"),
                              QStringLiteral("-e"), d + QStringLiteral("/error.log")});
        if (!m_nginx.waitForStarted(5000))
            continue;
        for (int i = 0; i < 100; ++i) {
            QTcpSocket s;
            s.connectToHost(QHostAddress::LocalHost, m_port);
            if (s.waitForConnected(100))
                return true;
            if (m_nginx.state() == QProcess::NotRunning)
                break;
            QThread::msleep(50);
        }
        m_nginx.kill();
        m_nginx.waitForFinished();
    }
    QFile err(m_dir.path() + QStringLiteral("/error.log"));
    err.open(QIODevice::ReadOnly);
    m_error = QStringLiteral("nginx did not start: ") + QString::fromUtf8(err.readAll());
    return false;
}

QString NginxFixture::url(const QString &name) const
{
    return QStringLiteral("http://127.0.0.1:%1/%2").arg(m_port).arg(name);
}

QString NginxFixture::tlsUrl(const QString &name) const
{
    return QStringLiteral("https://127.0.0.1:%1/%2").arg(m_tlsPort).arg(name);
}

QString NginxFixture::addFile(const QString &name, const QByteArray &bytes)
{
    const QString path = root() + u'/' + name;
    QFile f(path);
    f.open(QIODevice::WriteOnly | QIODevice::Truncate);
    f.write(bytes);
    return path;
}

QList<AccessLogEntry> NginxFixture::accessLog() const
{
    QList<AccessLogEntry> out;
    QFile f(m_dir.path() + QStringLiteral("/access.log"));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : f.readAll().split('\n')) {
        const QList<QByteArray> parts = line.split(' ');
        if (parts.size() < 6)
            continue;
        AccessLogEntry e;
        e.method = QString::fromLatin1(parts[0]);
        e.uri = QString::fromLatin1(parts[1]);
        e.status = parts[2].toInt();
        e.bodyBytes = parts[3].toLongLong();
        e.connection = parts[4].toLongLong();
        e.range = QString::fromLatin1(line.mid(line.indexOf('"'))).remove(u'"'); // may hold spaces
        out.append(e);
    }
    return out;
}

void NginxFixture::clearAccessLog()
{
    // nginx keeps the log open with O_APPEND: truncating in place is safe.
    QFile f(m_dir.path() + QStringLiteral("/access.log"));
    f.open(QIODevice::ReadWrite);
    f.resize(0);
}

qint64 NginxFixture::countRequests(const QString &method) const
{
    qint64 n = 0;
    for (const AccessLogEntry &e : accessLog())
        n += method.isEmpty() || e.method == method;
    return n;
}

qint64 NginxFixture::bodyBytes() const
{
    qint64 n = 0;
    for (const AccessLogEntry &e : accessLog())
        n += e.bodyBytes;
    return n;
}

QByteArray patternBytes(qint64 size, quint32 seed)
{
    QByteArray out(size, Qt::Uninitialized);
    QRandomGenerator gen(seed);
    qint64 i = 0;
    for (; i + 4 <= size; i += 4) {
        const quint32 v = gen.generate();
        memcpy(out.data() + i, &v, 4);
    }
    for (; i < size; ++i)
        out[i] = char(gen.generate());
    return out;
}

} // namespace sparsescope::test
