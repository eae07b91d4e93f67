#include "latencyproxy.h"

#include "listeningchild.h"

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
    m_port = startListeningChild(m_process, QStringLiteral("python3"), {QStringLiteral(SPARSESCOPE_LATENCYPROXY_PATH), QStringLiteral("--target"),
                                                QStringLiteral("127.0.0.1:%1").arg(targetPort), QStringLiteral("--rtt-ms"),
                                                QString::number(rttMs)}, &m_error);
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
