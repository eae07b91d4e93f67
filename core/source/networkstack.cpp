#include "networkstack.h"
#include "handoff.h"

#include <QNetworkAccessManager>
#include <QSslCertificate>

#include <mutex>

namespace sparsescope {

std::shared_ptr<NetworkStack> NetworkStack::shared()
{
    static std::mutex mutex;
    static std::weak_ptr<NetworkStack> current;
    std::lock_guard l(mutex);
    std::shared_ptr<NetworkStack> stack = current.lock();
    if (!stack) {
        stack.reset(new NetworkStack);
        current = stack;
    }
    return stack;
}

NetworkStack::NetworkStack()
{
    m_thread.setObjectName(QStringLiteral("sparsescope-network"));
    m_home = new QObject;
    m_home->moveToThread(&m_thread);
    m_thread.start();
}

NetworkStack::~NetworkStack()
{
    QObject *home = m_home;
    runBlockingOn(home, [home] { delete home; }); // the managers with it, on their thread
    m_thread.quit();
    m_thread.wait();
}

QSslConfiguration NetworkStack::tlsConfiguration(const QString &caFile, QString *problem)
{
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration(); // peer verification on (QSslSocket::VerifyPeer)
    if (!caFile.isEmpty()) {
        const QList<QSslCertificate> extra = QSslCertificate::fromPath(caFile, QSsl::Pem);
        if (extra.isEmpty())
            *problem = QStringLiteral("--ca-file %1: no PEM certificate could be read from it").arg(caFile);
        tls.addCaCertificates(extra);
    }
    return tls;
}

NetworkStack::Managed *NetworkStack::find(QNetworkAccessManager *manager)
{
    for (Managed &m : m_managers)
        if (m.manager == manager)
            return &m;
    return nullptr;
}

QNetworkAccessManager *NetworkStack::manager(bool interactive)
{
    Managed *best = nullptr;
    for (Managed &m : m_managers)
        if (m.interactive == interactive && (!best || m.running < best->running))
            best = &m;
    if (!best || best->running >= kRequestsPerManager) {
        auto *nam = new QNetworkAccessManager(m_home);
        nam->setRedirectPolicy(QNetworkRequest::NoLessSafeRedirectPolicy);
        m_managers.push_back({nam, interactive, 0});
        best = &m_managers.back();
    }
    return best->manager;
}

void NetworkStack::started(QNetworkAccessManager *manager)
{
    if (Managed *m = find(manager))
        ++m->running;
}

void NetworkStack::finished(QNetworkAccessManager *manager)
{
    if (Managed *m = find(manager))
        --m->running;
}

} // namespace sparsescope
