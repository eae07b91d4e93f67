#include "chunkcodec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zstd.h>

#include <cstring>

namespace sparsescope::chunkcodec {

namespace {
// OpenSSL frees its per-thread state in each thread's exit and its global state in an atexit
// handler (OPENSSL_init_crypto(3)). When a pool thread that hashed a chunk ends after main()
// returned, the two free the same block (ASan saw the double free in `info`). The process is
// ending anyway, so ask OpenSSL, before anything else loads it (Qt's TLS backend included),
// to leave its global state to the kernel: OPENSSL_INIT_NO_ATEXIT, OpenSSL 3.0 and later.
[[maybe_unused]] const bool s_cryptoInitialised = OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr) == 1;

struct CContext {
    ZSTD_CCtx *ctx = ZSTD_createCCtx();
    CContext()
    {
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, kLevel);
        ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
    }
    ~CContext() { ZSTD_freeCCtx(ctx); }
};
struct DContext {
    ZSTD_DCtx *ctx = ZSTD_createDCtx();
    ~DContext() { ZSTD_freeDCtx(ctx); }
};

// Compresses `in` as one frame appended to `out`; returns its length or -1.
qint64 compressFrame(QByteArrayView in, QByteArray &out)
{
    thread_local CContext c;
    const size_t bound = ZSTD_compressBound(size_t(in.size()));
    const qsizetype at = out.size();
    out.resize(at + qsizetype(bound));
    const size_t n = ZSTD_compress2(c.ctx, out.data() + at, bound, in.data(), size_t(in.size()));
    if (ZSTD_isError(n)) {
        out.resize(at);
        return -1;
    }
    out.resize(at + qsizetype(n));
    return qint64(n);
}
} // namespace

QByteArray sha256(QByteArrayView bytes)
{
    QByteArray out(32, Qt::Uninitialized);
    unsigned int len = 0;
    EVP_Digest(bytes.data(), size_t(bytes.size()), reinterpret_cast<unsigned char *>(out.data()), &len, EVP_sha256(), nullptr);
    return out;
}

bool isAllZero(QByteArrayView bytes)
{
    const char *p = bytes.data();
    const qsizetype n = bytes.size();
    if (n == 0)
        return true;
    // Compare the buffer with itself shifted by one byte after checking the first: fast memcmp.
    return p[0] == 0 && std::memcmp(p, p + 1, size_t(n - 1)) == 0;
}

Result<Encoded> encode(QByteArrayView bytes)
{
    Encoded e;
    if (isAllZero(bytes)) {
        e.kind = Encoded::Kind::Zero;
        return e;
    }
    const qint64 size = bytes.size();
    QByteArray out;
    out.reserve(qsizetype(size / 2));
    for (qint64 at = 0; at < size; at += kFrameSize) {
        const qint64 len = std::min(kFrameSize, size - at);
        const qint64 n = compressFrame(bytes.sliced(at, len), out);
        if (n < 0)
            return makeError(ErrorKind::Integrity, QStringLiteral("zstd could not compress a chunk"));
        if (at == 0 && double(n) >= kPaysRatio * double(len))
            break; // the sample does not pay: raw
        e.frames.append(quint32(n));
    }
    if (e.frames.size() * kFrameSize < size || double(out.size()) >= kPaysRatio * double(size)) {
        e.kind = Encoded::Kind::Raw;
        e.frames.clear();
        e.data = bytes.toByteArray();
        return e;
    }
    e.kind = Encoded::Kind::Zstd;
    e.data = std::move(out);
    return e;
}

double sampleRatio(QByteArrayView bytes)
{
    const QByteArrayView sample = bytes.first(std::min<qsizetype>(bytes.size(), kFrameSize));
    if (sample.isEmpty() || isAllZero(sample))
        return 0.0;
    QByteArray out(qsizetype(ZSTD_compressBound(size_t(sample.size()))), Qt::Uninitialized);
    const size_t n = ZSTD_compress(out.data(), size_t(out.size()), sample.data(), size_t(sample.size()), 1);
    return ZSTD_isError(n) ? 1.0 : double(n) / double(sample.size());
}

QByteArray framesToBlob(const QList<quint32> &frames)
{
    QByteArray blob(frames.size() * 4, Qt::Uninitialized);
    for (qsizetype i = 0; i < frames.size(); ++i) {
        const quint32 v = frames[i];
        for (int b = 0; b < 4; ++b)
            blob[i * 4 + b] = char((v >> (8 * b)) & 0xff);
    }
    return blob;
}

QList<quint32> framesFromBlob(const QByteArray &blob)
{
    QList<quint32> frames;
    frames.reserve(blob.size() / 4);
    for (qsizetype i = 0; i + 4 <= blob.size(); i += 4) {
        quint32 v = 0;
        for (int b = 0; b < 4; ++b)
            v |= quint32(uchar(blob[i + b])) << (8 * b);
        frames.append(v);
    }
    return frames;
}

Status decompressFrame(const char *frame, qint64 frameLength, char *out, qint64 size, const QString &what)
{
    thread_local DContext d;
    const size_t n = ZSTD_decompressDCtx(d.ctx, out, size_t(size), frame, size_t(frameLength));
    if (ZSTD_isError(n))
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: damaged compressed data (%2)").arg(what, QString::fromLatin1(ZSTD_getErrorName(n))));
    if (qint64(n) != size)
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: a compressed frame holds %2 bytes instead of %3").arg(what).arg(n).arg(size));
    return okStatus();
}

} // namespace sparsescope::chunkcodec
