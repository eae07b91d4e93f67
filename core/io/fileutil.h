#pragma once
// Small POSIX helpers shared by the store and export: full-length pread/pwrite that retry on
// EINTR and short transfers, durable atomic replacement of a small file, directory fsync.
// All paths are local; all errors are ErrorKind::LocalIo with strerror(3) text.

#include "result.h"

#include <QByteArray>
#include <QString>

namespace sparsescope {

// Writes all `length` bytes at `offset` (pwrite(2)); retries on EINTR and short writes.
Status pwriteAll(int fd, const char *data, qint64 length, qint64 offset, const QString &what);
// Reads exactly `length` bytes at `offset` (pread(2)); a short read (end of file) is an error.
Status preadAll(int fd, char *data, qint64 length, qint64 offset, const QString &what);
// Writes `bytes` to `path` as an AtomicFile (atomicfile.h), 0600, durable with its directory.
// Readers see the old or the new file, never a mix.
Status writeFileAtomically(const QString &path, const QByteArray &bytes);
// fdatasync(2), skipped when SPARSESCOPE_UNSAFE_NO_FSYNC=1: for measuring what durability costs
// (tests/bench), never for real use — a crash can then leave records pointing at lost data.
int dataSync(int fd);
// fsync(2) of a directory, making renames and creations in it durable.
Status syncDirectory(const QString &dir);
// syncfs(2) of the filesystem holding `dir`: every file written there is durable afterwards (one
// call for a whole extraction instead of an fsync per file).
Status syncFilesystem(const QString &dir);
// mkdir -p with mode 0700 for every directory it creates.
Status makePrivateDirectory(const QString &dir);
// `bytes` rounded up to whole 4 KiB blocks: what writing them allocates, what punching them frees.
inline qint64 blockRounded(qint64 bytes) { return (bytes + 4095) / 4096 * 4096; }
// Disk blocks allocated to the open file `fd`, in bytes (fstat(2) st_blocks × 512); 0 on error.
qint64 allocatedBytesOf(int fd);
// "strerror(errno)" as QString.
QString errnoText(int err);

} // namespace sparsescope
