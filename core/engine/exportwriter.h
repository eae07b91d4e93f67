#pragma once
// Writing an export: the object's bytes from the store into `path` as an AtomicFile (0644,
// atomicfile.h), so a failed or cancelled export never leaves a partial file under the target name.
// Missing chunks are left as holes (a sparse export); with requireAll, a missing chunk is an error.
// Runs on a worker thread. Errors: LocalIo (directory not writable, disk full), Integrity.

#include "chunkstore.h"

namespace sparsescope {

Result<qint64> writeExport(const ChunkStore &store, const QString &path, qint64 objectSize, bool requireAll);

} // namespace sparsescope
