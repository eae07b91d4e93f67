#pragma once
// AtomicFile: a file that appears under its name complete or not at all. It is written under a
// unique temporary name beside the target (mkostemp(3), so concurrent writers never collide);
// commit() fsyncs it, renames it over the target (rename(2): readers see the old file or the new
// one) and, with Durability::FileAndDirectory, fsyncs the directory so the rename survives a
// crash; with Durability::None it only renames (the caller makes many files durable at once,
// e.g. with syncfs(2)). Destroyed without commit(), it removes the temporary file. The temporary
// name is registered with temporaryfiles.h, so a program stopped by SIGINT or SIGTERM removes it.
// One thread at a time.

#include "result.h"

#include <QByteArray>
#include <QString>

#include <sys/types.h>

namespace sparsescope {

class AtomicFile {
public:
    enum class Durability { None, File, FileAndDirectory };

    // Creates the temporary file for `target` with permissions `mode`. Errors: LocalIo.
    static Result<AtomicFile> create(const QString &target, mode_t mode);
    AtomicFile(AtomicFile &&other) noexcept;
    AtomicFile &operator=(AtomicFile &&) = delete;
    ~AtomicFile(); // removes the temporary file unless committed

    int fd() const { return m_fd; }
    QString target() const { return m_target; }
    QString temporaryPath() const; // where the bytes are until commit()
    // Errors: LocalIo (fsync, rename, directory fsync); the temporary file is removed then.
    Status commit(Durability durability);

private:
    AtomicFile(int fd, QByteArray temporary, QString target, int slot);
    int m_fd = -1;
    int m_slot = -1; // temporaryfiles.h registration
    QByteArray m_temporary; // encoded path, empty once committed or moved from
    QString m_target;
};

} // namespace sparsescope
