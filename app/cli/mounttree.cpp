#include "mounttree.h"

#include <QHash>

namespace sparsescope::cli {

namespace {
// The components of a path inside an archive, or empty if it is absolute or climbs out.
QStringList safeComponents(const QString &path)
{
    if (path.startsWith(u'/'))
        return {};
    QStringList parts;
    for (const QString &c : path.split(u'/', Qt::SkipEmptyParts)) {
        if (c == u".")
            continue;
        if (c == u"..") {
            if (parts.isEmpty())
                return {};
            parts.removeLast();
            continue;
        }
        parts << c;
    }
    return parts;
}
} // namespace

MountTree::MountTree()
{
    MountNode root;
    root.parent = 1;
    m_nodes.push_back(root);
}

quint64 MountTree::add(MountNode node)
{
    m_nodes.push_back(std::move(node));
    const quint64 inode = m_nodes.size();
    MountNode &parent = m_nodes[m_nodes.back().parent - 1];
    parent.children[m_nodes.back().name] = inode;
    return inode;
}

quint64 MountTree::lookup(quint64 parent, const QString &name) const
{
    const MountNode *p = node(parent);
    if (!p || p->kind != MountNode::Kind::Directory)
        return 0;
    const auto it = p->children.find(name);
    return it == p->children.end() ? 0 : it->second;
}

quint64 MountTree::directory(quint64 parent, const QString &name, qint64 mtime)
{
    if (const quint64 existing = lookup(parent, name)) {
        if (m_nodes[existing - 1].kind == MountNode::Kind::Directory)
            return existing;
        m_nodes[existing - 1] = MountNode{MountNode::Kind::Directory, parent, name, 0, mtime, 0555, -1, -1, {}, {}};
        return existing; // a file of that name came first: the directory wins (as extraction would fail)
    }
    return add(MountNode{MountNode::Kind::Directory, parent, name, 0, mtime, 0555, -1, -1, {}, {}});
}

quint64 MountTree::addFile(const QStringList &directories, const QString &name, qint64 size, qint64 mtime, int file)
{
    quint64 parent = 1;
    for (const QString &d : directories)
        parent = directory(parent, d, mtime);
    return add(MountNode{MountNode::Kind::File, parent, name, size, mtime, 0444, file, -1, {}, {}});
}

int MountTree::addArchive(const QString &directoryName, qint64 mtime, int file, const QList<ArchiveEntry> &entries)
{
    const quint64 top = directory(1, directoryName, mtime);
    int skipped = 0;
    QHash<QString, const ArchiveEntry *> byPath; // the last member of each path (hard links' targets)
    for (const ArchiveEntry &e : entries) {
        const QStringList parts = safeComponents(ArchiveEntry::normalizedPath(e.path));
        if (parts.isEmpty()) {
            skipped += e.path != u"./" && e.path != u"." ? 1 : 0;
            continue;
        }
        quint64 parent = top;
        for (qsizetype i = 0; i + 1 < parts.size(); ++i)
            parent = directory(parent, parts[i], e.mtime);
        const QString name = parts.last();
        const int mode = e.mode >= 0 ? (e.mode & 0555) : -1;
        switch (e.type) {
        case ArchiveEntry::Type::Directory: {
            const quint64 d = directory(parent, name, e.mtime);
            m_nodes[d - 1].mtime = e.mtime;
            if (mode >= 0)
                m_nodes[d - 1].mode = mode | 0500;
            break;
        }
        case ArchiveEntry::Type::File:
        case ArchiveEntry::Type::Hardlink: {
            const ArchiveEntry *data = &e;
            if (e.type == ArchiveEntry::Type::Hardlink) {
                data = byPath.value(ArchiveEntry::normalizedPath(e.linkTarget));
                if (!data || data->type != ArchiveEntry::Type::File) {
                    ++skipped;
                    continue;
                }
            }
            if (!e.complete || (lookup(parent, name) && node(lookup(parent, name))->kind == MountNode::Kind::Directory)) {
                ++skipped;
                continue;
            }
            MountNode n{MountNode::Kind::Member, parent, name, data->size, e.mtime, mode >= 0 ? mode : 0444, file, data->index, {}, {}};
            if (const quint64 existing = lookup(parent, name))
                m_nodes[existing - 1] = n; // the later member of a name wins
            else
                add(n);
            break;
        }
        case ArchiveEntry::Type::Symlink: {
            // Only a target that resolves inside the archive's directory (relative, not climbing out).
            QStringList resolved = parts.mid(0, parts.size() - 1);
            resolved << e.linkTarget;
            if (e.linkTarget.startsWith(u'/') || safeComponents(resolved.join(u'/')).isEmpty()) {
                ++skipped;
                continue;
            }
            MountNode n{MountNode::Kind::Symlink, parent, name, e.linkTarget.toUtf8().size(), e.mtime, 0777, -1, -1, e.linkTarget, {}};
            if (const quint64 existing = lookup(parent, name); existing && node(existing)->kind != MountNode::Kind::Directory)
                m_nodes[existing - 1] = n;
            else if (!existing)
                add(n);
            break;
        }
        case ArchiveEntry::Type::Other:
            ++skipped;
            continue;
        }
        byPath.insert(parts.join(u'/'), &e);
    }
    return skipped;
}

} // namespace sparsescope::cli
