#pragma once
// MountTree: the directory tree a mount shows (mountfs.h), built once before mounting and read
// only afterwards (so any thread may read it): the root holds one file per object and, with
// --archives, a directory NAME.d per archive holding its entries — directories (given or implied
// by paths), files, hard links as files with their target's bytes, and symlinks whose target
// stays inside NAME.d. A name twice in an archive is its last member, as tar and unzip extract.
// Unsafe paths (absolute, or climbing out with "..") are left out and counted.

#include "archiveentry.h"

#include <QString>

#include <map>
#include <vector>

namespace sparsescope::cli {

struct MountNode {
    enum class Kind { Directory, File, Member, Symlink };
    Kind kind = Kind::Directory;
    quint64 parent = 1;
    QString name;
    qint64 size = 0;  // bytes (a symlink: its target's length)
    qint64 mtime = 0; // seconds since the epoch
    int mode = 0555;  // permission bits, write bits cleared
    int file = -1;    // File, Member: the mounted object's index
    int entry = -1;   // Member: the archive entry whose bytes it has
    QString target;   // Symlink
    std::map<QString, quint64> children; // Directory: name → inode
};

class MountTree {
public:
    MountTree(); // the root, inode 1

    // Adds a file for object `file` in the directory `directories` under the root (made as
    // needed; empty: the root). Returns its inode.
    quint64 addFile(const QStringList &directories, const QString &name, qint64 size, qint64 mtime, int file);
    // Adds `entries` of object `file`'s archive under the root directory `directory` (created).
    // Returns how many entries were left out (unsafe paths, links leaving the tree, damaged).
    int addArchive(const QString &directory, qint64 mtime, int file, const QList<ArchiveEntry> &entries);

    const MountNode *node(quint64 inode) const { return inode >= 1 && inode <= m_nodes.size() ? &m_nodes[inode - 1] : nullptr; }
    quint64 lookup(quint64 parent, const QString &name) const; // 0: no such entry
    quint64 count() const { return m_nodes.size(); }           // inodes are 1..count()

private:
    quint64 add(MountNode node);
    quint64 directory(quint64 parent, const QString &name, qint64 mtime); // found or created
    std::vector<MountNode> m_nodes;
};

} // namespace sparsescope::cli
