#include "archivepane.h"
#include "archiveextractor.h"
#include "archivereader.h"
#include "rangeparse.h"
#include "sparsedevice.h"
#include "sparseobject.h"

#include <QDateTime>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

namespace sparsescope {

struct ArchivePane::Worker {
    explicit Worker(SparseObject *object) : device(object) {}
    SparseDevice device;
    std::unique_ptr<ArchiveReader> reader;
};

namespace {
constexpr qint64 kPreviewLimit = 64 << 10;
enum Column { NameColumn, SizeColumn, PackedColumn, PresentColumn };
}

ArchivePane::ArchivePane(QWidget *parent) : QWidget(parent)
{
    m_pool.setMaxThreadCount(1);
    m_tree = new QTreeWidget;
    m_tree->setHeaderLabels({tr("Entry"), tr("Size"), tr("Packed"), tr("Present")});
    m_tree->setUniformRowHeights(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(NameColumn, QHeaderView::Stretch);
    for (int c : {SizeColumn, PackedColumn, PresentColumn})
        m_tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
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
    connect(m_listButton, &QPushButton::clicked, this, [this] { list(false); });
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
    cancel();
    m_pool.waitForDone(); // reads fail fast once cancelled
    ++m_generation;
    m_worker.reset();
    m_object = object;
    m_entries.clear();
    m_items.clear();
    m_tree->clear();
    m_pendingSelection = -1;
    m_extract->setEnabled(false);
    m_sequential->hide();
    m_listButton->hide();
    if (!object) {
        setBusy(false, tr("Select an archive (ZIP or tar) to see its entries."));
        return;
    }
    m_worker = std::make_shared<Worker>(object.get());
    if (looksLikeArchive(object->sourceInfo().displayName) || object->isPresent(0)) {
        list(false);
    } else {
        setBusy(false, tr("Its name does not say archive; listing would fetch its first and last chunks."));
        m_listButton->show();
    }
}

bool ArchivePane::looksLikeArchive(const QString &name)
{
    static const QStringList suffixes = {QStringLiteral(".zip"), QStringLiteral(".jar"), QStringLiteral(".apk"), QStringLiteral(".whl"),
                                         QStringLiteral(".tar"), QStringLiteral(".tgz"), QStringLiteral(".tar.gz"), QStringLiteral(".tar.zst"),
                                         QStringLiteral(".tar.xz"), QStringLiteral(".tar.bz2"), QStringLiteral(".txz"), QStringLiteral(".tbz2")};
    const QString lower = name.section(u'?', 0, 0).toLower();
    return std::any_of(suffixes.begin(), suffixes.end(), [&](const QString &s) { return lower.endsWith(s); });
}

void ArchivePane::setBusy(bool busy, const QString &text)
{
    m_busy = busy;
    m_status->setText(text);
    m_cancel->setVisible(busy);
    m_extract->setEnabled(!busy && !m_entries.isEmpty());
}

void ArchivePane::list(bool sequential)
{
    if (!m_worker)
        return;
    m_sequential->hide();
    m_listButton->hide();
    setBusy(true, sequential ? tr("Reading the whole stream to find its entries…") : tr("Reading the archive's directory…"));
    const quint64 generation = m_generation;
    QtConcurrent::run(&m_pool, [worker = m_worker, sequential]() -> Result<QList<ArchiveEntry>> {
        worker->device.resume();
        auto reader = ArchiveReader::open(worker->device, sequential);
        if (!reader)
            return reader.error();
        worker->reader = std::move(reader).value();
        return worker->reader->entries();
    }).then(this, [this, generation, sequential](Result<QList<ArchiveEntry>> result) {
        if (generation != m_generation)
            return;
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
    });
}

void ArchivePane::showEntries(const QList<ArchiveEntry> &entries)
{
    m_entries = entries;
    m_tree->setUpdatesEnabled(false);
    QHash<QString, QTreeWidgetItem *> folders;
    auto folder = [&](const QString &path, auto &&self) -> QTreeWidgetItem * {
        if (path.isEmpty())
            return nullptr;
        if (auto *f = folders.value(path))
            return f;
        const QString parentPath = path.section(u'/', 0, -2);
        QTreeWidgetItem *parent = self(parentPath, self);
        auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
        item->setText(NameColumn, path.section(u'/', -1));
        item->setIcon(NameColumn, style()->standardIcon(QStyle::SP_DirIcon));
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
                item->setData(NameColumn, Qt::UserRole, e.index);
                m_items.insert(e.index, item);
            }
            continue;
        }
        QTreeWidgetItem *parent = folder(path.section(u'/', 0, -2), folder);
        auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_tree);
        item->setText(NameColumn, path.section(u'/', -1));
        item->setIcon(NameColumn, style()->standardIcon(e.type == ArchiveEntry::Type::Symlink ? QStyle::SP_FileLinkIcon : QStyle::SP_FileIcon));
        item->setText(SizeColumn, formatBytes(e.size));
        item->setText(PackedColumn, e.compressedSize >= 0 ? formatBytes(e.compressedSize) : QStringLiteral("—"));
        item->setTextAlignment(SizeColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(PackedColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(PresentColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setToolTip(NameColumn, QStringLiteral("%1\n%2, modified %3").arg(e.path, ArchiveEntry::typeName(e.type),
                                                                               QDateTime::fromSecsSinceEpoch(e.mtime).toString(Qt::ISODate)));
        item->setData(NameColumn, Qt::UserRole, e.index);
        m_items.insert(e.index, item);
    }
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
        const QVariant v = item->data(NameColumn, Qt::UserRole);
        if (v.isValid())
            out.append(v.toInt());
    }
    return out;
}

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
    const ArchiveEntry &e = m_entries[indices.first()];
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
    const QList<int> indices = selectedIndices();
    const QString name = object->sourceInfo().displayName.section(u'/', -1);
    setBusy(true, tr("Extracting %1 into %2…").arg(indices.isEmpty() ? tr("all entries") : tr("%n entries", nullptr, int(indices.size())), directory));
    const quint64 generation = m_generation;
    QtConcurrent::run(&m_pool, [worker = m_worker, indices, directory] {
        worker->device.resume();
        return extractEntries(*worker->reader, indices, directory);
    })
        .then(this, [this, generation, name, directory](Result<ExtractReport> report) {
            if (generation != m_generation)
                return;
            setBusy(false, m_status->text());
            refreshPresence();
            if (!report) {
                Q_EMIT activity(name, report.error().message, true);
                setBusy(false, report.error().message);
                return;
            }
            for (const QString &w : report->warnings)
                Q_EMIT activity(name, w, true);
            const QString done = tr("extracted %1 files (%2) into %3").arg(report->files).arg(formatBytes(report->bytes), directory);
            Q_EMIT activity(name, done, false);
            setBusy(false, done);
        });
}

} // namespace sparsescope
