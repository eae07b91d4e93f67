#include "archivepane.h"
#include "archiveextractor.h"
#include "archiveindex.h"
#include "archivereader.h"
#include "handoff.h"
#include "rangeparse.h"
#include "sparsedevice.h"
#include "sparseobject.h"

#include <QCollator>
#include <QCoreApplication>
#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QThread>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

namespace sparsescope {

struct ArchivePane::Worker {
    Worker(std::shared_ptr<SparseObject> o, QObject *pane) : object(std::move(o)), device(object.get()), home(pane) {}
    ~Worker()
    {
        // The last reference may go on the pool's thread: the object is released on the pane's
        // (the GUI) thread. Posted to the pane, which outlives its pool's tasks: were the hand-off
        // still queued when the application is destroyed, its deletion would run ~SparseObject
        // under the event queue's lock (QCoreApplicationPrivate::cleanupThreadData), which
        // ~QObject takes again — a hang at exit. The pane's ~QObject deletes it outside that lock.
        if (object && QThread::currentThread() != home->thread())
            postTo(home, [o = std::move(object)] {});
    }
    std::shared_ptr<SparseObject> object;
    SparseDevice device;
    std::unique_ptr<ArchiveReader> reader;
    QObject *home; // the pane
};

namespace {
constexpr qint64 kPreviewLimit = 64 << 10;
enum Column { NameColumn, SizeColumn, PackedColumn, PresentColumn };
enum Role { IndexRole = Qt::UserRole, PathRole, FolderRole, SizeRole };

// Folders first, then names as people sort them (case-insensitive, numbers by value); sizes by value.
class EntryItem final : public QTreeWidgetItem {
public:
    using QTreeWidgetItem::QTreeWidgetItem;
    bool operator<(const QTreeWidgetItem &other) const override
    {
        const int column = treeWidget() ? treeWidget()->sortColumn() : NameColumn;
        const bool folder = data(NameColumn, FolderRole).toBool(), otherFolder = other.data(NameColumn, FolderRole).toBool();
        if (folder != otherFolder)
            return folder; // folders first, whichever way the column sorts... as file managers do
        if (column == SizeColumn || column == PackedColumn)
            return data(column, SizeRole).toLongLong() < other.data(column, SizeRole).toLongLong();
        static const QCollator collator = [] {
            QCollator c;
            c.setNumericMode(true);
            c.setCaseSensitivity(Qt::CaseInsensitive);
            return c;
        }();
        return collator.compare(text(column), other.text(column)) < 0;
    }
};

bool looksLikeUncompressedTar(const QString &name) { return name.section(u'?', 0, 0).toLower().endsWith(QStringLiteral(".tar")); }
} // namespace

ArchivePane::ArchivePane(QWidget *parent) : QWidget(parent)
{
    m_pool.setMaxThreadCount(1);
    m_tree = new QTreeWidget;
    m_tree->setHeaderLabels({tr("Entry"), tr("Size"), tr("Compressed"), tr("Present")});
    m_tree->setUniformRowHeights(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    for (int c : {SizeColumn, PackedColumn, PresentColumn})
        m_tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(NameColumn, Qt::AscendingOrder);
    connect(m_tree, &QTreeWidget::itemSelectionChanged, this, &ArchivePane::onSelection);
    m_status = new QLabel(tr("Select an archive (ZIP or tar) to see its entries."));
    m_status->setWordWrap(true);
    m_status->setForegroundRole(QPalette::PlaceholderText);
    m_extract = new QPushButton(tr("Extract…"));
    m_extract->setEnabled(false);
    connect(m_extract, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Extract into"));
        if (!dir.isEmpty())
            extractTo(dir);
    });
    m_sequential = new QPushButton(tr("Read Sequentially"));
    m_sequential->hide();
    connect(m_sequential, &QPushButton::clicked, this, [this] { list(true); });
    m_listButton = new QPushButton(tr("List Entries"));
    m_listButton->hide();
    connect(m_listButton, &QPushButton::clicked, this, [this] { list(false, true); });
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->hide();
    connect(m_cancel, &QPushButton::clicked, this, &ArchivePane::cancel);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_status, 1);
    buttons->addWidget(m_sequential);
    buttons->addWidget(m_listButton);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_extract);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tree, 1);
    layout->addLayout(buttons);
    auto *presence = new QTimer(this);
    presence->setInterval(1000);
    connect(presence, &QTimer::timeout, this, &ArchivePane::refreshPresence);
    presence->start();
}

ArchivePane::~ArchivePane()
{
    cancel();
    m_pool.waitForDone();
}

void ArchivePane::cancel()
{
    if (m_worker)
        m_worker->device.cancel();
}

void ArchivePane::setObject(const std::shared_ptr<SparseObject> &object)
{
    if (object && m_object.lock() == object)
        return;
    // The old worker's task, if any, stops at its next read (cancel) and its result is dropped
    // (generation); the GUI thread does not wait for it.
    cancel();
    ++m_generation;
    m_worker.reset();
    m_object = object;
    m_entries.clear();
    m_items.clear();
    m_folders.clear();
    m_tree->clear();
    m_pendingSelection = -1;
    m_extract->setEnabled(false);
    m_sequential->hide();
    m_listButton->hide();
    if (!object) {
        setBusy(false, tr("Select an archive (ZIP or tar) to see its entries."));
        return;
    }
    m_worker = std::make_shared<Worker>(object, this);
    if (looksLikeArchive(object->sourceInfo().displayName) || object->isPresent(0)) {
        list(false);
    } else {
        setBusy(false, tr("Its name does not say archive; listing would fetch its first and last chunks."));
        m_listButton->show();
    }
}

bool ArchivePane::looksLikeArchive(const QString &name)
{
    return ArchiveReader::kindByName(name) != ArchiveReader::NamedKind::Unknown;
}

void ArchivePane::setBusy(bool busy, const QString &text)
{
    m_busy = busy;
    m_status->setText(text);
    m_cancel->setVisible(busy);
    m_extract->setEnabled(!busy && !m_entries.isEmpty());
}

void ArchivePane::list(bool sequential, bool confirmed)
{
    if (!m_worker)
        return;
    m_sequential->hide();
    m_listButton->hide();
    setBusy(true, sequential ? tr("Reading the whole stream to find its entries…") : tr("Reading the archive's directory…"));
    const quint64 generation = m_generation;
    const QString name = m_worker->device.name();
    const bool ask = !confirmed && !sequential && looksLikeUncompressedTar(name) && m_worker->device.size() > kAskBeforeListingAbove;
    struct Outcome {
        Result<QList<ArchiveEntry>> entries;
        bool askFirst = false;
    };
    QtConcurrent::run(&m_pool, [worker = m_worker, sequential, ask]() -> Outcome {
        worker->device.resume();
        // A large tar lists only when asked, unless its listing is already in the archive index.
        if (ask && !QFile::exists(archiveindex::pathIn(worker->device.entryDirectory())))
            return {QList<ArchiveEntry>(), true};
        auto reader = ArchiveReader::open(worker->device, sequential);
        if (!reader)
            return {reader.error()};
        worker->reader = std::move(reader).value();
        return {worker->reader->entries()};
    }).then(this, [this, generation, sequential, name](Outcome outcome) {
        if (generation != m_generation)
            return;
        if (outcome.askFirst) {
            const qint64 size = m_worker ? m_worker->device.size() : 0;
            setBusy(false, tr("Listing this %1 tar reads the header of every entry: for small entries that is most of "
                              "the archive, up to %1. It is read once; the listing is kept.").arg(formatBytes(size)));
            m_listButton->show();
            return;
        }
        Result<QList<ArchiveEntry>> &result = outcome.entries;
        if (!result) {
            const bool compressed = result.error().message.contains(QStringLiteral("--sequential"));
            QString message = result.error().message;
            if (compressed)
                message = message.section(QStringLiteral("; run again"), 0, 0) + tr(".");
            setBusy(false, message);
            m_sequential->setVisible(compressed && !sequential);
            return;
        }
        showEntries(*result);
        if (m_worker && m_worker->reader && !m_worker->reader->problem().isEmpty())
            Q_EMIT activity(name.section(u'/', -1), m_worker->reader->problem(), true);
    });
}

void ArchivePane::showEntries(const QList<ArchiveEntry> &entries)
{
    m_entries = entries;
    m_tree->setUpdatesEnabled(false);
    m_tree->setSortingEnabled(false); // sorted once, below, not per insertion
    QHash<QString, QTreeWidgetItem *> folders;
    auto folder = [&](const QString &path, auto &&self) -> QTreeWidgetItem * {
        if (path.isEmpty())
            return nullptr;
        if (auto *f = folders.value(path))
            return f;
        const QString parentPath = path.section(u'/', 0, -2);
        QTreeWidgetItem *parent = self(parentPath, self);
        auto *item = parent ? new EntryItem(parent) : new EntryItem(m_tree);
        item->setText(NameColumn, path.section(u'/', -1));
        item->setIcon(NameColumn, style()->standardIcon(QStyle::SP_DirIcon));
        item->setData(NameColumn, PathRole, path);
        item->setData(NameColumn, FolderRole, true);
        folders.insert(path, item);
        return item;
    };
    for (const ArchiveEntry &e : entries) {
        QString path = e.path;
        while (path.endsWith(u'/'))
            path.chop(1);
        if (e.type == ArchiveEntry::Type::Directory) {
            QTreeWidgetItem *item = folder(path, folder);
            if (item) {
                item->setData(NameColumn, IndexRole, e.index);
                m_items.insert(e.index, item);
            }
            continue;
        }
        QTreeWidgetItem *parent = folder(path.section(u'/', 0, -2), folder);
        auto *item = parent ? new EntryItem(parent) : new EntryItem(m_tree);
        item->setData(NameColumn, PathRole, path);
        item->setData(SizeColumn, SizeRole, e.size);
        item->setData(PackedColumn, SizeRole, e.compressedSize);
        item->setText(NameColumn, path.section(u'/', -1));
        item->setIcon(NameColumn, style()->standardIcon(e.type == ArchiveEntry::Type::Symlink ? QStyle::SP_FileLinkIcon : QStyle::SP_FileIcon));
        item->setText(SizeColumn, formatBytes(e.size));
        item->setText(PackedColumn, e.compressedSize >= 0 ? formatBytes(e.compressedSize) : QStringLiteral("—"));
        item->setTextAlignment(SizeColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(PackedColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(PresentColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setToolTip(NameColumn, QStringLiteral("%1\n%2, modified %3").arg(e.path, ArchiveEntry::typeName(e.type),
                                                                               QDateTime::fromSecsSinceEpoch(e.mtime).toString(Qt::ISODate)));
        item->setData(NameColumn, IndexRole, e.index);
        m_items.insert(e.index, item);
    }
    m_folders = folders;
    m_tree->setSortingEnabled(true);
    if (m_tree->topLevelItemCount() <= 3)
        m_tree->expandToDepth(0);
    m_tree->setUpdatesEnabled(true);
    qint64 total = 0;
    for (const ArchiveEntry &e : entries)
        total += e.size;
    auto object = m_object.lock();
    setBusy(false, tr("%1 · %2 entries · %3 unpacked").arg(m_worker && m_worker->reader ? m_worker->reader->formatName().toUpper() : QString())
                       .arg(entries.size()).arg(formatBytes(total)));
    refreshPresence();
    if (m_pendingSelection >= 0)
        selectEntry(std::exchange(m_pendingSelection, -1));
}

void ArchivePane::refreshPresence()
{
    auto object = m_object.lock();
    if (!object || m_entries.isEmpty() || !isVisible())
        return;
    const RangeSet present = object->presentRanges();
    for (const ArchiveEntry &e : std::as_const(m_entries)) {
        QTreeWidgetItem *item = m_items.value(e.index);
        if (!item || !e.span || e.type == ArchiveEntry::Type::Directory)
            continue;
        const qint64 have = present.bytesIn(*e.span);
        const double pct = e.span->length() > 0 ? 100.0 * double(have) / double(e.span->length()) : 100.0;
        item->setText(PresentColumn, QStringLiteral("%1%").arg(pct, 0, 'f', pct > 0 && pct < 1 ? 1 : 0));
    }
}

QList<int> ArchivePane::selectedIndices() const
{
    QList<int> out;
    for (QTreeWidgetItem *item : m_tree->selectedItems()) {
        const QVariant v = item->data(NameColumn, IndexRole);
        if (v.isValid())
            out.append(v.toInt());
    }
    return out;
}

QStringList ArchivePane::selectedPaths() const
{
    QStringList out;
    for (QTreeWidgetItem *item : m_tree->selectedItems())
        out.append(item->data(NameColumn, PathRole).toString());
    return out;
}

bool ArchivePane::selectPath(const QString &path)
{
    QTreeWidgetItem *item = m_folders.value(path);
    for (auto it = m_items.cbegin(); !item && it != m_items.cend(); ++it)
        if (it.value()->data(NameColumn, PathRole).toString() == path)
            item = it.value();
    if (!item)
        return false;
    m_tree->clearSelection();
    m_tree->scrollToItem(item);
    item->setSelected(true);
    return true;
}

QString ArchivePane::statusText() const { return m_status->text(); }

void ArchivePane::selectEntry(int index)
{
    if (m_items.isEmpty()) {
        m_pendingSelection = index;
        return;
    }
    if (QTreeWidgetItem *item = m_items.value(index)) {
        m_tree->clearSelection();
        m_tree->scrollToItem(item);
        item->setSelected(true);
    }
}

void ArchivePane::onSelection()
{
    const QList<int> indices = selectedIndices();
    if (indices.size() != 1)
        return;
    const ArchiveEntry *found = findEntry(m_entries, indices.first());
    if (!found)
        return;
    const ArchiveEntry &e = *found;
    if (e.span)
        Q_EMIT spanSelected(*e.span);
    if (e.type != ArchiveEntry::Type::File || m_busy || !m_worker || !m_worker->reader)
        return;
    // The first 64 KiB of the entry, decompressed (fetching what is missing, which shows on the map).
    const quint64 generation = m_generation;
    const int index = e.index;
    QtConcurrent::run(&m_pool, [worker = m_worker, index]() -> Result<QByteArray> {
        worker->device.resume();
        QByteArray bytes;
        const Status st = worker->reader->read(index, [&](const char *data, qint64 length) {
            bytes.append(data, std::min(length, kPreviewLimit - bytes.size()));
            return bytes.size() < kPreviewLimit; // enough: stop reading
        });
        if (!st && !(st.error().kind == ErrorKind::Cancelled && bytes.size() == kPreviewLimit))
            return st.error();
        return bytes;
    }).then(this, [this, generation, path = e.path](Result<QByteArray> bytes) {
        if (generation == m_generation && bytes)
            Q_EMIT entryPreview(path, *bytes);
    });
}

void ArchivePane::extractTo(const QString &directory)
{
    auto object = m_object.lock();
    if (!m_worker || !m_worker->reader || !object)
        return;
    const QStringList paths = selectedPaths();
    const QString name = object->sourceInfo().displayName.section(u'/', -1);
    setBusy(true, tr("Extracting %1 into %2…").arg(paths.isEmpty() ? tr("all entries") : tr("%n selected", nullptr, int(paths.size())), directory));
    m_extractClock.start();
    const quint64 generation = m_generation;
    QPointer<ArchivePane> self(this);
    QtConcurrent::run(&m_pool, [worker = m_worker, paths, directory, self, generation]() -> Result<ExtractReport> {
        worker->device.resume();
        QList<int> indices;
        if (!paths.isEmpty()) {
            auto selected = selectEntries(worker->reader->entries(), paths); // a folder brings its subtree
            if (!selected)
                return selected.error();
            indices = *selected;
        }
        QElapsedTimer sinceUpdate;
        sinceUpdate.start();
        return extractEntries(*worker->reader, indices, directory, [&](const ExtractProgress &p) {
            if (sinceUpdate.elapsed() < 100 && p.filesDone < p.filesTotal)
                return;
            sinceUpdate.restart();
            QMetaObject::invokeMethod(self, [self, p, generation] {
                if (self && generation == self->m_generation)
                    self->showProgress(p);
            }, Qt::QueuedConnection);
        });
    })
        .then(this, [this, generation, name, directory](Result<ExtractReport> report) {
            if (generation != m_generation)
                return;
            refreshPresence();
            if (!report) {
                Q_EMIT activity(name, report.error().message, true);
                setBusy(false, report.error().message);
                return;
            }
            for (const QString &w : report->warnings)
                Q_EMIT activity(name, w, true);
            QString done = tr("extracted %n files (%1) into %2", nullptr, report->files).arg(formatBytes(report->bytes), directory);
            if (report->directories > 0 && report->files == 0)
                done = tr("extracted %n folders into %1", nullptr, report->directories).arg(directory);
            Q_EMIT activity(name, done, report->incomplete);
            setBusy(false, done);
        });
}

void ArchivePane::showProgress(const ExtractProgress &p)
{
    if (!m_busy)
        return;
    const double fraction = p.bytesTotal > 0 ? double(p.bytesDone) / double(p.bytesTotal)
                                             : (p.filesTotal > 0 ? double(p.filesDone) / double(p.filesTotal) : 0.0);
    QString eta;
    const qint64 elapsed = m_extractClock.elapsed();
    if (fraction > 0.02 && elapsed > 500) {
        const qint64 left = qint64(double(elapsed) * (1.0 - fraction) / fraction / 1000.0);
        eta = tr(" · %1:%2 left").arg(left / 60).arg(left % 60, 2, 10, QLatin1Char('0'));
    }
    m_status->setText(tr("Extracting… %1% · %2 of %3 · %4 of %5 files%6")
                          .arg(int(100 * fraction))
                          .arg(formatBytes(p.bytesDone), formatBytes(p.bytesTotal))
                          .arg(p.filesDone)
                          .arg(p.filesTotal)
                          .arg(eta));
}

} // namespace sparsescope
