#include "exportwriter.h"
#include "atomicfile.h"
#include "fileutil.h"

#include <unistd.h>

namespace sparsescope {

Result<qint64> writeExport(const ChunkStore &store, const QString &path, qint64 objectSize, bool requireAll)
{
    auto file = AtomicFile::create(path, 0644);
    if (!file)
        return file.error();
    if (::ftruncate(file->fd(), objectSize) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot size the export of %1 bytes as %2: %3")
                                                 .arg(objectSize).arg(path, errnoText(errno)));
    if (Status st = store.copyPresentTo(file->fd(), ByteRange{0, objectSize}, requireAll); !st)
        return st.error();
    if (Status st = file.value().commit(AtomicFile::Durability::FileAndDirectory); !st)
        return st.error();
    return store.presentBytes();
}

} // namespace sparsescope
