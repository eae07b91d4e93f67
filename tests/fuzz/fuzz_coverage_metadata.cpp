// libFuzzer target: the coverage metadata readers — the journal replay (journal.h) and meta.json
// (ObjectMeta::fromJson). The input drives a journal: 18-byte steps that append a valid record
// (type, chunk, arg), or flip a bit, or truncate, so that the fuzzer gets past the per-record
// XXH3 checks. Invariants: the accepted prefix is whole records within the file; every present
// chunk lies inside the object and has the checksum of its last Present record; replaying just
// the accepted prefix gives the same coverage (a torn tail never changes what came before).
#include "journal.h"
#include "objectmeta.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

using namespace sparsescope;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)ObjectMeta::fromJson(QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)));
    if (size < 2)
        return 0;
    const qint64 chunkCount = 1 + data[0] * 7;
    const qint64 chunkSize = 4096;
    QByteArray bytes = journal::encode({JournalRecord::Header, 1, quint64(chunkSize)});
    for (size_t at = 1; at + 18 <= size; at += 18) {
        const uint8_t op = data[at];
        quint64 chunk = 0, arg = 0;
        std::memcpy(&chunk, data + at + 2, 8);
        std::memcpy(&arg, data + at + 10, 8);
        if (op < 200) {
            const quint16 type = data[at + 1] % 3 == 2 ? JournalRecord::Evict : JournalRecord::Present;
            bytes += journal::encode({type, chunk % quint64(chunkCount + 2), type == JournalRecord::Evict ? arg % 5 : arg});
        } else if (op < 230 && !bytes.isEmpty()) {
            const quint64 bit = chunk % quint64(bytes.size() * 8);
            bytes[qsizetype(bit / 8)] = char(bytes[qsizetype(bit / 8)] ^ (1 << (bit % 8)));
        } else if (!bytes.isEmpty()) {
            bytes.truncate(qsizetype(chunk % quint64(bytes.size())));
        }
    }
    const JournalState s = journal::replay(bytes, chunkCount, chunkSize);
    if (s.validBytes % journal::kRecordSize != 0 || s.validBytes > bytes.size() || s.validBytes + s.droppedBytes != bytes.size())
        std::abort();
    if (s.present.size() != chunkCount)
        std::abort();
    const JournalState again = journal::replay(bytes.left(qsizetype(s.validBytes)), chunkCount, chunkSize);
    if (again.present.count() != s.present.count() || again.validBytes != s.validBytes)
        std::abort();
    for (qint64 i = 0; i < chunkCount; ++i)
        if (s.present.test(i) != again.present.test(i) || (s.present.test(i) && s.checksums.get(i) != again.checksums.get(i)))
            std::abort();
    return 0;
}
