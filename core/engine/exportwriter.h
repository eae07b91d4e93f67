#pragma once
// Writing an export: the object's bytes from the store into `path`, through a temporary file in
// the same directory (0644) that is fdatasync'ed and renamed over `path` (rename(2)) only when
// complete, so a failed or cancelled export never leaves a partial file under the target name.
// Missing chunks are left as holes (a sparse export); with requireAll, a missing chunk is an error.
// Runs on a worker thread. Errors: LocalIo (directory not writable, disk full), Integrity.

#include "chunkstore.h"

namespace sparsescope {

Result<qint64> writeExport(const ChunkStore &store, const QString &path, qint64 objectSize, bool requireAll);

} // namespace sparsescope
