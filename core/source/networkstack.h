#pragma once
// NetworkStack: the one network thread of the process and its QNetworkAccessManagers, shared by
// every HTTP(S) source (issue "Fewer round trips"): the requests of all open objects run on one
// event loop, and a request to a host reuses the idle keep-alive connection (and so the TLS
// session) that any object's earlier request left, instead of each object opening its own.
//
// Managers come in two sets: the user's reads (and opening probes) and downloads (prefetch,
// read-ahead). Each manager runs its sockets on a thread of its own inside Qt, so a user's read is
// never served behind a download's socket events. A manager has 6 HTTP/1.1 channels per host
// (QNetworkAccessManager's limit); a request goes to the least loaded manager of its set, and a
// new manager is made when each has 6 requests running, so no request waits inside Qt.
//
// Lifetime: shared() makes the stack on first use and every HttpSource holds it; the last one to
// go stops the thread (its managers are deleted on it). Connections therefore last as long as
// some object of the process is open. All requests share the manager's connection cache, which
// Qt keys by scheme, host and port: sources of one process are meant to share one TLS
// configuration (--ca-file is a process-wide option of the CLI and the app).

#include <QSslConfiguration>
#include <QThread>

#include <memory>
#include <vector>

class QNetworkAccessManager;
class QObject;

namespace sparsescope {

class NetworkStack {
public:
    // The process's stack, made (and its thread started) when none is alive. Any thread.
    static std::shared_ptr<NetworkStack> shared();
    ~NetworkStack(); // deletes the managers on the network thread, then stops it

    NetworkStack(const NetworkStack &) = delete;
    NetworkStack &operator=(const NetworkStack &) = delete;

    // The network thread: move HttpWorkers here. Any thread.
    QThread *thread() { return &m_thread; }

    // Network thread only. The manager for the next request of the set (interactive: a user's
    // read or an opening probe), owned by the stack; started()/finished() count its running
    // requests.
    QNetworkAccessManager *manager(bool interactive);
    void started(QNetworkAccessManager *manager);
    void finished(QNetworkAccessManager *manager);

    // The TLS configuration of every request: the system's CAs plus those of `caFile` (PEM; the
    // CLI's --ca-file), peer verification on. `*problem` says why `caFile` gave no certificate
    // (a request should then not be sent). Loads the TLS backend: call it for https:// only.
    static QSslConfiguration tlsConfiguration(const QString &caFile, QString *problem);

    static constexpr int kRequestsPerManager = 6; // QNetworkAccessManager's HTTP/1.1 channels per host

private:
    NetworkStack();
    struct Managed {
        QNetworkAccessManager *manager = nullptr;
        bool interactive = false;
        int running = 0;
    };
    Managed *find(QNetworkAccessManager *manager);

    QThread m_thread;
    QObject *m_home = nullptr;   // lives in m_thread; parent of the managers
    std::vector<Managed> m_managers; // network thread only
};

} // namespace sparsescope
