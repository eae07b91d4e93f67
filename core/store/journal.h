#pragma once
// The coverage journal: an append-only file of fixed 32-byte records, each protected by its own
// XXH3-64 checksum, that says which chunks of an object are present (and their checksums).
//
// Record layout (little-endian):   u32 magic "SSJ1" | u16 type | u16 writer
//                                  | u64 chunk | u64 arg | u64 check = XXH3-64(first 24 bytes)
//   Header  (type 0): chunk = format version (2; 1 is read too), arg = chunk size in bytes.
//                     Always the first record.
//   Present (type 1): chunk = index, arg = XXH3-64 of the chunk's bytes.
//   Evict   (type 2): chunk = first index, arg = number of chunks.
//   Reset   (type 3): chunk = the object's new size: everything before it is void (the object
//                     changed upstream and was reset while other processes had it open).
//   Packed  (type 4): chunk = index, arg = XXH3-64 of the chunk's bytes: present, and its bytes
//                     are in the cache's packs (packstore.h), no longer in the data file. Appended
//                     only after the pack and its index row are durable, before the loose copy is
//                     punched out. A later Present (fetched again) makes the chunk loose again.
//                     (Binaries before packs end the journal at the first Packed record.)
// `writer` tags the store instance that appended the record (format 1 wrote 0), so that a
// process tailing the journal can skip its own records. Many processes append to one journal
// (O_APPEND; each batch is one write(2) of whole records, and pages hold whole records, so even a
// killed writer leaves only whole records).
//
// Crash consistency (the disk-objectstore rule): a Present record is appended only after the
// chunk's bytes were fdatasync'ed; an Evict record is made durable before the hole is punched.
// On load, the first record that is short or fails its check ends the journal: it and everything
// after it are a torn tail and are dropped (and truncated away when the caller may write).

#include "chunkbitmap.h"
#include "checksumtable.h"
#include "result.h"

#include <QByteArray>
#include <QString>

namespace sparsescope {

struct JournalRecord {
    enum Type : quint16 { Header = 0, Present = 1, Evict = 2, Reset = 3, Packed = 4 };
    quint16 type = Present;
    quint64 chunk = 0;
    quint64 arg = 0;
    quint16 writer = 0;
};

struct JournalState {
    ChunkBitmap present;
    ChecksumTable checksums;
    ChunkBitmap packed;       // present chunks whose bytes are in the packs
    qint64 validRecords = 0;  // records accepted, header included
    qint64 validBytes = 0;    // length of the accepted prefix of the file
    qint64 droppedBytes = 0;  // torn or corrupt tail that was dropped
};

namespace journal {
constexpr qint64 kRecordSize = 32;

QByteArray encode(const JournalRecord &record);
// Decodes one record; false if the magic, reserved field or check does not verify.
bool decode(const char *bytes, JournalRecord *out);

// Replays the journal bytes for an object of `chunkCount` chunks of `chunkSize` bytes.
// Records before the last Reset are void. Records naming chunks outside the object, or a header
// with another chunk size or format, end the valid prefix like a torn record. Never fails: an
// unusable journal yields empty coverage.
JournalState replay(const QByteArray &bytes, qint64 chunkCount, qint64 chunkSize);

// Reads and replays `path`. With `repair`, a dropped tail is truncated away (ftruncate + fsync).
// Errors (LocalIo): the file cannot be read or, with repair, truncated.
Result<JournalState> load(const QString &path, qint64 chunkCount, qint64 chunkSize, bool repair);

// Writes a fresh journal (header + one Present or Packed record per present chunk) atomically in
// place of `path`. Used to create a journal and to compact one. Errors (LocalIo).
Status rewrite(const QString &path, qint64 chunkSize, const ChunkBitmap &present, const ChecksumTable &checksums,
               const ChunkBitmap &packed = {});
} // namespace journal

} // namespace sparsescope
