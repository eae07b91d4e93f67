// libFuzzer target: the multipart/byteranges parser (httpresponse.h, RFC 9110 §14.6, RFC 2046 §5.1)
// on arbitrary bodies. Input: a first line "CONTENT-TYPE", then the body.
// Invariants: every accepted part has an ordered Content-Range, exactly its length in bytes, and
// those bytes occur in the body; the boundary taken from a Content-Type is 1 to 70 characters.
#include "httpresponse.h"

#include <cstdint>
#include <cstdlib>

using namespace sparsescope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const qsizetype nl = input.indexOf('\n');
    const QByteArray contentType = nl < 0 ? input : input.left(nl);
    const QByteArray body = nl < 0 ? QByteArray() : input.mid(nl + 1);
    const QByteArray boundary = http::multipartBoundary(contentType);
    if (boundary.size() > 70)
        std::abort();
    auto parts = http::parseMultipartByteranges(boundary.isEmpty() ? QByteArray("B") : boundary, body);
    if (parts.ok()) {
        if (parts->isEmpty())
            std::abort();
        for (const http::BytePart &p : *parts) {
            if (p.range.first < 0 || p.range.last < p.range.first || p.bytes.size() != p.range.last - p.range.first + 1)
                std::abort();
            if (!body.contains(p.bytes))
                std::abort();
        }
    }
    return 0;
}
