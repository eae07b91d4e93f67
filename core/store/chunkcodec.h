#pragma once
// How a packed chunk's bytes are stored (packstore.h): keyed by SHA-256 (FIPS 180-4, through
// OpenSSL's EVP), compressed with zstd only where a sample shows it pays, in independent frames so
// that a small read decompresses one frame, not the whole chunk.
//
// The compression rule (after disk-objectstore's AUTO mode, with zstd instead of zlib): the first
// frame is compressed at kLevel; if it does not come to under kPaysRatio of its size, the chunk is
// stored raw (incompressible data costs one frame's attempt, not the chunk's). Each frame is a
// complete zstd frame (RFC 8878) with its content checksum (XXH64), so decompressing a frame also
// verifies it. An all-zero chunk is stored as nothing.
//
// Thread affinity: every function is reentrant (compression contexts are per thread).

#include "result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace sparsescope::chunkcodec {

constexpr qint64 kFrameSize = 32 << 10; // bytes of a chunk per zstd frame (see docs/PERFORMANCE.md)
constexpr int kLevel = 3;               // zstd's default level
constexpr double kPaysRatio = 0.9;

// 32 bytes: SHA-256 of `bytes`.
QByteArray sha256(QByteArrayView bytes);
bool isAllZero(QByteArrayView bytes);

struct Encoded {
    enum class Kind { Raw, Zstd, Zero } kind = Kind::Raw;
    QByteArray data;      // what goes into the pack (empty for Zero)
    QList<quint32> frames; // Zstd: compressed length of each frame, in order (frame i holds bytes
                          // [i × kFrameSize, min(size, (i+1) × kFrameSize)) of the chunk)
};
// Encodes a chunk's bytes for a pack by the rule above. Errors: none but a zstd failure (Integrity).
Result<Encoded> encode(QByteArrayView bytes);

// Compressed size / size of a fast sample (zstd level 1 of the first kFrameSize bytes): below
// about 0.5, packing a chunk frees more than half of its disk (the budget packs such chunks
// instead of evicting them).
double sampleRatio(QByteArrayView bytes);

// Frame table as stored in the index (little-endian u32 per frame) and back.
QByteArray framesToBlob(const QList<quint32> &frames);
QList<quint32> framesFromBlob(const QByteArray &blob);

// Decompresses one zstd frame that must hold exactly `size` bytes into `out` (out has room for
// `size`). Errors: Integrity (damaged frame, checksum mismatch, wrong size), naming `what`.
Status decompressFrame(const char *frame, qint64 frameLength, char *out, qint64 size, const QString &what);

} // namespace sparsescope::chunkcodec
