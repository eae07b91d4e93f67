#pragma once
// FaultServer: a scriptable, misbehaving HTTP/1.1 server for tests (issue 6), on a free loopback
// port in a thread of its own (so a test may block on a child process meanwhile). It serves one
// object at /object; HEAD, single-range and multi-range GETs (RFC 9110 §14; several ranges get a
// multipart/byteranges body, one part each) are answered correctly unless the
// rule in force says otherwise. Connections are kept alive. Every request is recorded.

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QString>
#include <QThread>

namespace sparsescope::test {

enum class Fault {
    None,
    IgnoreRange,            // 200 with the whole body
    ShiftedStart,           // 206 whose Content-Range starts one byte later than asked
    ShortEnd,               // 206 whose Content-Range and body end one byte early
    WrongTotal,             // 206 whose Content-Range total is the size + 1
    MalformedContentRange,  // "Content-Range: bytes abc"
    MalformedContentLength, // "Content-Length: 12x"
    RangeNotSatisfiable,    // 416 for a valid range
    CloseMidBody,           // half the body, then FIN
    ResetMidBody,           // half the body, then RST
    StallAfterHeaders,      // the headers, then silence
    StallMidBody,           // half the body, then silence
    HeadRefused,            // HEAD → 405 (GETs are fine)
    HeadWithoutLength,      // HEAD → 200 without Content-Length
    WeakEtag,               // every response carries ETag W/"…" instead of the strong one
    ServiceUnavailable,     // 503 with Retry-After: 1
    TooManyRequests,        // 429 with Retry-After: 1
    RedirectLoop,           // 302 to itself
    GzipEncoding,           // 206 with Content-Encoding: gzip
    Multipart,              // 206 multipart/byteranges with the one range inside
    MultiRangeIgnored,      // 200 with the whole body for a request of several ranges (single ranges are fine)
};

struct FaultRule {
    Fault fault = Fault::None;
    qint64 minOffset = 0; // GETs whose range starts at or after this offset (HEAD faults: every HEAD)
    int times = -1;       // how many requests it hits, then it is spent; -1 = every one
};

struct SeenRequest {
    QByteArray method;
    QByteArray range;   // the Range header, empty if none
    QByteArray ifRange; // the If-Range header, empty if none
    qint64 atMs = 0;    // since the server started
};

class FaultServer {
public:
    FaultServer(QByteArray body, QByteArray etag = "\"v1\"");
    ~FaultServer();

    bool start(); // listens on 127.0.0.1, a free port; false if it cannot
    QString url() const;

    // Thread-safe, any time.
    void setRule(FaultRule rule);
    void setObject(QByteArray body, QByteArray etag); // the object changes upstream
    QList<SeenRequest> requests() const;
    int count(const QByteArray &method) const;
    void clearRequests();

    // Used by the server thread.
    struct Answer {
        Fault fault = Fault::None;
        QByteArray body;
        QByteArray etag;
    };
    Answer decide(const QByteArray &method, qint64 rangeStart, const SeenRequest &seen);

private:
    QThread m_thread;
    class Worker;
    Worker *m_worker = nullptr;
    quint16 m_port = 0;

    mutable QMutex m_mutex;
    QByteArray m_body;
    QByteArray m_etag;
    FaultRule m_rule;
    QList<SeenRequest> m_seen;
};

} // namespace sparsescope::test
