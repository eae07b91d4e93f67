#include "sparselocalobject.h"
#include "awaitfuture.h"

#include <QFile>

namespace sparsescope::test {

SparseObject::OpenResult openSparseLocalObject(const QString &dir, qint64 chunks, qint64 chunkSize)
{
    const QString path = dir + QStringLiteral("/sparse.bin");
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || !f.resize(chunks * chunkSize))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot make the sparse file %1: %2").arg(path, f.errorString()));
    f.close();
    EngineConfig config;
    config.cacheDir = dir + QStringLiteral("/cache");
    config.chunkSize = chunkSize;
    return awaitFuture(SparseObject::open(path, config));
}

} // namespace sparsescope::test
