#pragma once
// A live object of many chunks at no disk cost: a sparse local file (all zeros, `chunks` ×
// `chunkSize` bytes) in `dir`, opened with its cache in `dir`/cache. For the map's tests and
// benchmarks at 10^7 chunks. Runs the caller's event loop while opening (awaitFuture).

#include "sparseobject.h"

#include <QString>

namespace sparsescope::test {

SparseObject::OpenResult openSparseLocalObject(const QString &dir, qint64 chunks, qint64 chunkSize);

} // namespace sparsescope::test
