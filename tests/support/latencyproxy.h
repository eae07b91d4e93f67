#pragma once
// LatencyProxy: tests/support/latencyproxy.py run as a child process — a TCP proxy on a free
// loopback port that adds `rttMs` of round trip to every connection towards 127.0.0.1:targetPort
// (half each way, and one RTT before a new connection carries data, as a TCP handshake would).

#include <QProcess>
#include <QString>

namespace sparsescope::test {

class LatencyProxy {
public:
    LatencyProxy() = default;
    ~LatencyProxy();

    // Starts the proxy; false (and errorText()) if it cannot. Returns once its port accepts.
    bool start(quint16 targetPort, int rttMs);
    QString errorText() const { return m_error; }
    quint16 port() const { return m_port; }
    // `url` (of the target) with its port replaced by the proxy's.
    QString viaProxy(const QString &url) const;
    int connections(); // connections accepted so far

private:
    QProcess m_process;
    quint16 m_port = 0;
    int m_connections = 0;
    QString m_error;
};

} // namespace sparsescope::test
