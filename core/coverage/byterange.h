#pragma once
// ByteRange: a half-open byte range [begin, end) of an object, 64-bit offsets in bytes.
// On the command line and in HTTP, ranges are written inclusive (START-END, RFC 9110 §14.1.2);
// toInclusiveString() and the parsers in rangeparse.h convert between the two.

#include <QString>
#include <QtGlobal>

#include <algorithm>

namespace sparsescope {

struct ByteRange {
    qint64 begin = 0;
    qint64 end = 0; // exclusive

    constexpr qint64 length() const { return end > begin ? end - begin : 0; }
    constexpr bool isEmpty() const { return end <= begin; }
    constexpr bool contains(qint64 offset) const { return offset >= begin && offset < end; }
    constexpr bool contains(ByteRange other) const { return other.begin >= begin && other.end <= end; }
    constexpr bool intersects(ByteRange other) const { return other.begin < end && begin < other.end; }
    constexpr ByteRange intersected(ByteRange other) const
    {
        const ByteRange r{std::max(begin, other.begin), std::min(end, other.end)};
        return r.isEmpty() ? ByteRange{} : r;
    }
    friend constexpr bool operator==(ByteRange, ByteRange) = default;

    // "START-END" inclusive, as curl and HTTP write it; an empty range prints as "empty".
    QString toInclusiveString() const
    {
        if (isEmpty())
            return QStringLiteral("empty");
        return QStringLiteral("%1-%2").arg(begin).arg(end - 1);
    }
};

} // namespace sparsescope
