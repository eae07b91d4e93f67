#pragma once
// HttpWorker: the part of HttpSource that lives in the network thread and owns its
// QNetworkAccessManagers and replies. Every method runs in that thread (HttpSource posts to it).

#include "source.h"

#include <QList>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QObject>
#include <QPromise>
#include <QUrl>

#include <unordered_map>

class QNetworkAccessManager;
class QNetworkReply;

namespace sparsescope {

class HttpWorker final : public QObject {
    Q_OBJECT
public:
    HttpWorker(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics);
    ~HttpWorker() override;

    static int statusOf(QNetworkReply *reply); // the HTTP status, 0 before headers or without any
    static bool isTransientFailure(QNetworkReply *reply); // 5xx, 429, a reset or stalled connection

    // open(): size and validator by `probe` (a range GET) or, for an empty probe, by HEAD
    // (httpworker_probe.cpp).
    void probe(std::shared_ptr<QPromise<Result<SourceInfo>>> promise, const OpenProbe &probe);
    void assume(const SourceInfo &info);
    void startRead(quint64 id, ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive);
    void cancel(quint64 id);
    void abortAll();

private:
    struct Transfer {
        ByteRange range;
        std::shared_ptr<ReadSink> sink;
        QNetworkReply *reply = nullptr;
        QNetworkAccessManager *manager = nullptr;
        qint64 received = 0;
        bool checked = false;
        bool cancelled = false;
        bool interactive = false;
        bool paused = false; // held back while interactive transfers run
        Status failure = okStatus();
    };

    QNetworkRequest makeRequest(const QUrl &url);
    const QSslConfiguration &tlsConfiguration();
    QNetworkAccessManager *pickManager();
    void watchRedirects(QNetworkReply *reply);
    using InfoPromise = std::shared_ptr<QPromise<Result<SourceInfo>>>;
    void probeWithHead(InfoPromise promise);
    void probeWithRangeGet(InfoPromise promise);
    void probeWithRange(InfoPromise promise, const OpenProbe &probe);
    Result<SourceInfo> probeAnswer(QNetworkReply *reply, const OpenProbe &probe, const QByteArray &body, bool bodyComplete);
    void adopt(QNetworkReply *reply, const SourceInfo &info); // the probe's answer becomes this source's
    void onReadyRead(quint64 id, bool finishing = false);
    void onFinished(quint64 id);
    bool checkHeaders(Transfer &t);
    QString where(ByteRange range) const;
    QString replyError(QNetworkReply *reply) const;

    QUrl m_url;          // as given (may carry credentials; never written anywhere)
    QUrl m_effectiveUrl; // after redirects
    QString m_display;   // redacted
    SourceOptions m_options;
    std::shared_ptr<Statistics> m_stats;
    QList<QNetworkAccessManager *> m_managers;
    std::unordered_map<QNetworkAccessManager *, int> m_load;
    std::unordered_map<quint64, Transfer> m_transfers;
    SourceInfo m_info;
    QByteArray m_ifRange;
    QByteArray m_buffer;
    int m_interactiveRunning = 0;
    QSslConfiguration m_tls;    // the default one plus --ca-file's certificates (tlsConfiguration())
    bool m_tlsReady = false;
    QString m_tlsError;         // why --ca-file cannot be used; open() fails with it
};

} // namespace sparsescope
