// libFuzzer target: the command line's range and size parsers (rangeparse.h).
// Invariants: an accepted range is non-empty and inside the object; an accepted size is positive.
#include "rangeparse.h"

#include <cstdint>
#include <cstdlib>

using namespace sparsescope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    qint64 objectSize = 0;
    for (int i = 0; i < 6; ++i) // up to 2^48: realistic object sizes
        objectSize = (objectSize << 8) | data[i];
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data + 8), qsizetype(size - 8));
    if (auto r = parseInclusiveRange(text, objectSize); r.ok()) {
        if (r->begin < 0 || r->end <= r->begin || r->end > objectSize)
            std::abort();
    }
    if (auto s = parseSize(text); s.ok() && *s <= 0)
        std::abort();
    (void)formatBytes(objectSize);
    return 0;
}
