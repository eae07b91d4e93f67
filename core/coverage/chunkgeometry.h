#pragma once
// ChunkGeometry: how an object of `objectSize` bytes is cut into fixed-size chunks of
// `chunkSize` bytes (the unit of coverage). Chunk i covers [i*chunkSize, min((i+1)*chunkSize, size));
// only the last chunk may be short. A pure value type.

#include "byterange.h"

namespace sparsescope {

struct ChunkGeometry {
    qint64 objectSize = 0; // bytes
    qint64 chunkSize = 1;  // bytes, > 0

    qint64 chunkCount() const { return (objectSize + chunkSize - 1) / chunkSize; }
    ByteRange chunkRange(qint64 index) const
    {
        return {index * chunkSize, std::min((index + 1) * chunkSize, objectSize)};
    }
    // Byte range of chunks [first, last] inclusive.
    ByteRange chunkSpan(qint64 first, qint64 last) const
    {
        return {first * chunkSize, std::min((last + 1) * chunkSize, objectSize)};
    }
    // Indices [first, last] (inclusive) of the chunks that intersect `range`; first > last if empty.
    std::pair<qint64, qint64> chunksTouching(ByteRange range) const
    {
        const ByteRange r = range.intersected({0, objectSize});
        if (r.isEmpty())
            return {0, -1};
        return {r.begin / chunkSize, (r.end - 1) / chunkSize};
    }
};

} // namespace sparsescope
