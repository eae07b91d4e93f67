#pragma once
// HttpWorker: the part of HttpSource that lives in the process's network thread (networkstack.h)
// and owns the object's replies, made by the stack's shared QNetworkAccessManagers. Every method
// runs in that thread (HttpSource posts to it).

#include "handoff.h"
#include "awssettings.h"
#include "networkstack.h"
#include "source.h"

#include <QList>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QObject>
#include <QPromise>
#include <QUrl>

#include <atomic>
#include <optional>
#include <unordered_map>

class QNetworkAccessManager;
class QNetworkReply;

namespace sparsescope {

class HttpWorker final : public QObject {
    Q_OBJECT
public:
    // An S3 object (s3Object set): every request is signed (SigV4), opened by HEAD, and every
    // range GET carries If-Match with the object's ETag (a 412 means it was replaced).
    struct S3Object {
        aws::S3Settings settings;
        QString bucket;
        QString key;
    };
    HttpWorker(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics, NetworkStack *stack,
               std::optional<S3Object> s3Object = std::nullopt);
    bool isS3() const { return m_s3.has_value(); }
    ~HttpWorker() override;

    static int statusOf(QNetworkReply *reply); // the HTTP status, 0 before headers or without any
    static bool isTransientFailure(QNetworkReply *reply); // 5xx, 429, a reset or stalled connection
    static qint64 contentLengthOf(QNetworkReply *reply);  // bytes, -1 if absent or not a number (http::finalContentLength)
    // An Upstream error for `reply`: retryable when transient, with the server's Retry-After.
    static Error upstreamFailure(QNetworkReply *reply, QString message);

    // open(): size and validator by `probe` (a range GET) or, for an empty probe, by HEAD
    // (httpworker_probe.cpp).
    void probe(std::shared_ptr<QPromise<Result<SourceInfo>>> promise, const OpenProbe &probe);
    void assume(const SourceInfo &info);
    // Source::preconnect(): two connections of a prefetch manager to the host, once (on this thread).
    void preconnect();
    void startRead(quint64 id, ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive);
    // Several ranges in one multi-range GET (httpworker_batch.cpp); one by one once the server has
    // answered such a request with the whole object.
    void startBatch(const QList<quint64> &ids, const QList<ByteRange> &ranges, const QList<std::shared_ptr<ReadSink>> &sinks,
                    bool interactive);
    void cancel(quint64 id);
    // True once the server answered a range request with the whole object although nothing changed
    // (python's http.server): reads then ask for the whole object. Any thread.
    bool rangesIgnored() const { return m_rangesIgnored.load(); }
    void abortAll();
    // Posts to this worker's thread; postUrgent() goes ahead of queued events (a user's read).
    std::shared_ptr<ObjectLink> link() const { return m_link; }

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
        bool waitingForSink = false; // the sink has no room (ReadSink::ready): resumed by it
        Status failure = okStatus();
        bool whole = false;       // asked without Range (the server ignores ranges): `skip` bytes, then the range
        qint64 skip = 0;
        bool endedEarly = false;  // stopped after the range (whole)
        QByteArray boundary;      // a multipart/byteranges answer: collected, then delivered whole
        QByteArray multipartBody;
    };
    Status deliverMultipart(Transfer &t); // the part of t's multipart answer that holds t.range
    // Ends transfer `t` while its body is read (httpworker_body.cpp): with `why`, or as cancelled
    // by its sink when none; a reply still running is aborted.
    void stopBody(Transfer &t, bool finishing, std::optional<Error> why = std::nullopt);
    Error tooManyBytes(const Transfer &t) const; // the server sent more than t.range holds
    // Sets the Qt read buffer of every running non-interactive reply to `bytes` (paused while a
    // user's read runs, full again after).
    void setPrefetchReadBuffers(qint64 bytes);
    void resumeFromSink(quint64 id); // the sink of transfer `id` has room again
    bool m_preconnected = false;

    struct Batch {
        QList<quint64> ids;
        QList<ByteRange> ranges;
        QList<std::shared_ptr<ReadSink>> sinks; // null once the member is finished (cancelled)
        QNetworkReply *reply = nullptr;
        QNetworkAccessManager *manager = nullptr;
        QByteArray body;
        qint64 limit = 0; // the most body bytes a right answer can have
        bool ifRange = false;
    };
    void finishBatch(const std::shared_ptr<Batch> &batch);
    // Checks `batch`'s answer and delivers each member's bytes (finishing its sink); the error
    // of the whole answer, if any, for the members still waiting.
    Status deliverBatch(Batch &batch);
    // Changed when the validators of a response name another version than m_info's.
    Status checkValidators(QNetworkReply *reply) const;

    QNetworkRequest makeRequest(const QUrl &url);
    // Signs `req` for `method` when this is an S3 object (sigv4.h); else nothing.
    void sign(QNetworkRequest &req, const QByteArray &method) const;
    // S3: the failure of an error answer, from its XML body (a 412: Changed).
    Error s3Failure(QNetworkReply *reply, const QString &where, const QByteArray &body) const;
    const QSslConfiguration &tlsConfiguration();
    QNetworkAccessManager *pickManager(bool interactive = false);
    void watchRedirects(QNetworkReply *reply);
    using InfoPromise = std::shared_ptr<QPromise<Result<SourceInfo>>>;
    void probeWithHead(InfoPromise promise);
    void probeWithRangeGet(InfoPromise promise);
    void probeWithRange(InfoPromise promise, const OpenProbe &probe);
    Result<SourceInfo> probeAnswer(QNetworkReply *reply, const OpenProbe &probe, const QByteArray &body, bool bodyComplete);
    void adopt(QNetworkReply *reply, const SourceInfo &info); // the probe's answer becomes this source's
    void setValidator(const QString &validator);             // what If-Range (HTTP) or If-Match (S3) will carry
    void onReadyRead(quint64 id, bool finishing = false); // httpworker_body.cpp
    void onFinished(quint64 id);
    bool checkHeaders(Transfer &t);
    QString where(ByteRange range) const;
    QString replyError(QNetworkReply *reply) const;

    std::optional<S3Object> m_s3;
    QByteArray m_ifMatch; // S3: the ETag every range GET must match
    NetworkStack *m_stack; // the process's managers (outlives this worker: HttpSource holds it)
    QUrl m_url;          // as given (may carry credentials; never written anywhere)
    QUrl m_effectiveUrl; // after redirects
    QString m_display;   // redacted
    SourceOptions m_options;
    std::shared_ptr<Statistics> m_stats;
    std::unordered_map<quint64, Transfer> m_transfers;
    std::unordered_map<quint64, std::shared_ptr<Batch>> m_batchOf; // running batch members
    bool m_multiRange = true; // false once the server answered several ranges with the whole object
    std::atomic<bool> m_rangesIgnored{false};
    SourceInfo m_info;
    QByteArray m_ifRange;
    QByteArray m_buffer;
    std::shared_ptr<ObjectLink> m_link = std::make_shared<ObjectLink>(this); // sinks' resume calls come back through it
    int m_interactiveRunning = 0;
    // The default configuration plus --ca-file's certificates (tlsConfiguration()); empty until
    // then: even a default-constructed QSslConfiguration loads the TLS backend (OpenSSL, ~10 ms).
    std::optional<QSslConfiguration> m_tls;
    QString m_tlsError;         // why --ca-file cannot be used; open() fails with it
};

} // namespace sparsescope
