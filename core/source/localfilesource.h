#pragma once
// LocalFileSource: a local file read on a small pool of reader threads, with io_uring
// (uringreader.h: 32 reads in flight per request) or, where io_uring is refused or
// SPARSESCOPE_IO=pread, with pread(2).
// The validator is "mtime_ns:size:inode"; a file that changes it between open() and a read
// fails that read with ErrorKind::Changed.

#include "source.h"

#include <QThreadPool>

#include <atomic>
#include <mutex>
#include <set>

namespace sparsescope {

class LocalFileSource final : public Source {
public:
    LocalFileSource(QString path, const SourceOptions &options, std::shared_ptr<Statistics> statistics);
    ~LocalFileSource() override;

    QFuture<Result<SourceInfo>> open(const OpenProbe &probe = {}) override;
    void assume(const SourceInfo &info) override;
    quint64 read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive = false) override;
    void cancel(quint64 id) override;
    QString backendName() const override;
    std::shared_ptr<Statistics> statistics() const override { return m_stats; }

private:
    Result<SourceInfo> stat() const;

    QString m_path;
    std::shared_ptr<Statistics> m_stats;
    QThreadPool m_pool;
    std::atomic<quint64> m_nextId{1};
    std::mutex m_mutex;
    std::set<quint64> m_cancelled;
    QString m_validator;
};

} // namespace sparsescope
