#pragma once
// Parsers for command-line input: inclusive byte ranges ("START-END", "START-") and sizes
// ("256K", "1M"; K/M/G/T are binary: KiB, MiB, GiB, TiB).

#include "byterange.h"
#include "result.h"

#include <QString>

namespace sparsescope {

// Parses an inclusive range "START-END" (both decimal, START <= END) or "START-" (to the end of
// the object) into a half-open ByteRange. objectSize is the object's size in bytes, or -1 when
// unknown, in which case "START-" yields end = -1 ("open") for the caller to resolve.
// Errors (Usage): empty text, non-digits, END < START, numbers beyond 2^63-1,
// START at or past objectSize, END past objectSize-1 (when the size is known).
Result<ByteRange> parseInclusiveRange(const QString &text, qint64 objectSize);

// Parses a size such as "65536", "64K", "1M", "2G", "1T" (optionally "KiB"/"MiB"/"GiB"/"TiB") into bytes.
// Errors (Usage): empty, not a number, zero, negative, or overflowing 64 bits.
Result<qint64> parseSize(const QString &text);

// Formats bytes for people: "1.5 MiB", "512 B".
QString formatBytes(qint64 bytes);

} // namespace sparsescope
