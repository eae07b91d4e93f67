#include "xzpipe.h"
#include "sparsedevice.h"

#include <QThread>

#include <lzma.h>

namespace sparsescope {

bool XzPipe::looksLikeXz(SparseDevice &device)
{
    static const char magic[6] = {char(0xFD), '7', 'z', 'X', 'Z', 0};
    if (device.size() < 6)
        return false;
    auto head = device.read(ByteRange{0, 6});
    return head && *head == QByteArray(magic, 6);
}

XzPipe::XzPipe(SparseDevice &device) : m_device(device), m_thread([this] { run(); }) {}

XzPipe::~XzPipe()
{
    {
        QMutexLocker l(&m_mutex);
        m_stop = true;
        m_changed.wakeAll();
    }
    m_thread.join();
}

bool XzPipe::push(QByteArray block)
{
    QMutexLocker l(&m_mutex);
    while (!m_stop && int(m_ready.size()) >= kQueued)
        m_changed.wait(&m_mutex);
    if (m_stop)
        return false;
    m_ready.push_back(std::move(block));
    m_changed.wakeAll();
    return true;
}

void XzPipe::run()
{
    lzma_stream z = LZMA_STREAM_INIT;
    lzma_mt mt{};
    mt.threads = std::max(1u, unsigned(QThread::idealThreadCount()));
    mt.memlimit_threading = quint64(1) << 30; // above this, liblzma decodes single-threaded
    mt.memlimit_stop = UINT64_MAX;
    mt.flags = LZMA_CONCATENATED;
    mt.timeout = 0;
    std::optional<Error> error;
    if (lzma_stream_decoder_mt(&z, &mt) != LZMA_OK)
        error = makeError(ErrorKind::LocalIo, QStringLiteral("%1: cannot start the xz decoder").arg(m_device.name()));
    qint64 offset = 0;
    QByteArray input;
    QByteArray out(kBlock, Qt::Uninitialized);
    z.next_out = reinterpret_cast<uint8_t *>(out.data());
    z.avail_out = size_t(out.size());
    bool ended = false;
    lzma_action action = LZMA_RUN; // LZMA_FINISH once the input is all read (and from then on)
    while (!error && !ended) {
        if (z.avail_in == 0 && action == LZMA_RUN) {
            if (offset < m_device.size()) {
                auto bytes = m_device.readSome(offset, 1 << 20);
                if (!bytes) {
                    error = bytes.error();
                    break;
                }
                input = std::move(bytes).value();
                offset += input.size();
                z.next_in = reinterpret_cast<const uint8_t *>(input.constData());
                z.avail_in = size_t(input.size());
            }
            if (offset >= m_device.size())
                action = LZMA_FINISH;
        }
        const lzma_ret rc = lzma_code(&z, action);
        if (z.avail_out == 0 || rc == LZMA_STREAM_END) {
            out.truncate(out.size() - qsizetype(z.avail_out));
            if (!out.isEmpty() && !push(std::move(out)))
                break;
            out = QByteArray(kBlock, Qt::Uninitialized);
            z.next_out = reinterpret_cast<uint8_t *>(out.data());
            z.avail_out = size_t(out.size());
        }
        if (rc == LZMA_STREAM_END) {
            ended = true;
        } else if (rc == LZMA_BUF_ERROR && action == LZMA_FINISH) {
            error = makeError(ErrorKind::Integrity, QStringLiteral("%1: the xz stream is truncated (it ends inside its data)").arg(m_device.name()));
        } else if (rc != LZMA_OK) {
            error = makeError(ErrorKind::Integrity, QStringLiteral("%1: the xz data is damaged (liblzma error %2)").arg(m_device.name()).arg(int(rc)));
        }
    }
    if (error && out.size() - qsizetype(z.avail_out) > 0) { // what came before the error goes first
        out.truncate(out.size() - qsizetype(z.avail_out));
        push(std::move(out));
    }
    lzma_end(&z);
    QMutexLocker l(&m_mutex);
    m_error = error;
    m_finished = true;
    m_changed.wakeAll();
}

Result<QByteArray> XzPipe::next()
{
    QMutexLocker l(&m_mutex);
    while (m_ready.empty() && !m_finished)
        m_changed.wait(&m_mutex);
    if (!m_ready.empty()) {
        QByteArray block = std::move(m_ready.front());
        m_ready.pop_front();
        m_changed.wakeAll();
        return block;
    }
    if (m_error)
        return *m_error;
    return QByteArray();
}

} // namespace sparsescope
