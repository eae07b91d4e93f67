#include "latencyproxy.h"

#include <QUrl>

namespace sparsescope::test {

LatencyProxy::~LatencyProxy()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

bool LatencyProxy::start(quint16 targetPort, int rttMs)
{
    m_process.start(QStringLiteral("python3"), {QStringLiteral(SPARSESCOPE_LATENCYPROXY_PATH), QStringLiteral("--target"),
                                                QStringLiteral("127.0.0.1:%1").arg(targetPort), QStringLiteral("--rtt-ms"),
                                                QString::number(rttMs)});
    if (!m_process.waitForStarted(10000)) {
        m_error = QStringLiteral("cannot start python3: %1").arg(m_process.errorString());
        return false;
    }
    while (!m_process.canReadLine() && m_process.waitForReadyRead(10000)) {
    }
    const QByteArray line = m_process.readLine().trimmed();
    if (!line.startsWith("listening ")) {
        m_error = QStringLiteral("the latency proxy did not start: %1 %2").arg(QString::fromUtf8(line), QString::fromUtf8(m_process.readAllStandardError()));
        return false;
    }
    m_port = quint16(line.mid(10).toUInt());
    return m_port != 0;
}

QString LatencyProxy::viaProxy(const QString &url) const
{
    QUrl u(url);
    u.setPort(m_port);
    return u.toString();
}

int LatencyProxy::connections()
{
    m_connections += int(m_process.readAllStandardError().count("connection "));
    return m_connections;
}

} // namespace sparsescope::test
