#pragma once
// ArchivePane: the entries of the selected object when it is an archive (ZIP or tar), as a tree
// (folders first, then by name) with sizes and how much of each entry is present. Selecting an
// entry highlights its byte span on the coverage map and previews its first 64 KiB, decompressed;
// Extract… writes the selected entries and folders (a folder with its whole subtree), or all, into
// a directory, traversal-safe, showing the percentage, bytes and time left, and can be cancelled.
// A large tar that is not indexed yet is listed only when asked: its listing reads a header per
// entry, which for small entries is most of the archive.
//
// Listing and extraction run on a worker thread of the pane's own (the archive libraries block on
// reads the engine serves on the GUI thread); the GUI thread never waits for them. A worker keeps
// its object alive until it is done and hands it back to the GUI thread to be released.

#include "archiveentry.h"

#include <QElapsedTimer>
#include <QThreadPool>
#include <QWidget>

#include <atomic>
#include <memory>

class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace sparsescope {

class ArchiveReader;
class SparseDevice;
class SparseObject;

class ArchivePane final : public QWidget {
    Q_OBJECT
public:
    explicit ArchivePane(QWidget *parent = nullptr);
    ~ArchivePane() override;

    // The object to show (nullptr: none). The object must outlive the pane's use of it: call
    // setObject(nullptr) before it is destroyed.
    // Lists it at once when its name looks like an archive or its first chunk is cached; otherwise
    // offers "List Entries" (probing costs upstream requests).
    void setObject(const std::shared_ptr<SparseObject> &object);
    static bool looksLikeArchive(const QString &name);
    QList<ArchiveEntry> entries() const { return m_entries; }
    bool isListing() const { return m_busy; }
    // Extracts the selected entries (all if none) into `directory`; the result comes as activity.
    void extractTo(const QString &directory);
    void selectEntry(int index);
    // Selects the entry or folder `path` (as listed, without a trailing "/"); false if none.
    bool selectPath(const QString &path);
    QString statusText() const;
    void cancel();
    // Tars larger than this that are not indexed yet wait for "List Entries" (bytes).
    static constexpr qint64 kAskBeforeListingAbove = 256LL << 20;

Q_SIGNALS:
    void spanSelected(sparsescope::ByteRange span);
    void entryPreview(const QString &path, const QByteArray &bytes);
    void activity(const QString &object, const QString &message, bool error);

private:
    void list(bool sequential, bool confirmed = false);
    void showProgress(const struct ExtractProgress &progress);
    void showEntries(const QList<ArchiveEntry> &entries);
    void refreshPresence();
    void onSelection();
    void setBusy(bool busy, const QString &text);
    QList<int> selectedIndices() const;   // entries selected as such
    QStringList selectedPaths() const;    // entries and folders selected, as `extract` names them

    struct Worker; // device and reader, used on m_pool's thread only
    std::shared_ptr<Worker> m_worker;
    std::weak_ptr<SparseObject> m_object;
    QThreadPool m_pool;
    QList<ArchiveEntry> m_entries;
    QHash<int, QTreeWidgetItem *> m_items;
    QHash<QString, QTreeWidgetItem *> m_folders;
    QElapsedTimer m_extractClock;
    QTreeWidget *m_tree;
    QLabel *m_status;
    QPushButton *m_extract;
    QPushButton *m_sequential;
    QPushButton *m_listButton;
    QPushButton *m_cancel;
    bool m_busy = false;
    int m_pendingSelection = -1; // selectEntry() before the listing arrived
    quint64 m_generation = 0;
};

} // namespace sparsescope
