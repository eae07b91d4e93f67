#include "mainwindow.h"
#include "activitypanel.h"
#include "archivepane.h"
#include "cache.h"
#include "cacheusagebar.h"
#include "coveragemap.h"
#include "demoarchive.h"
#include "handoff.h"
#include "hexpreview.h"
#include "previewpane.h"
#include "objectlibrary.h"
#include "objecttablemodel.h"
#include "rangeparse.h"
#include "settingsdialog.h"
#include "throughputchart.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSortFilterProxyModel>
#include <QScreen>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include <cmath>

namespace sparsescope {

namespace {
constexpr qint64 kPreviewBytes = 4096;
}

MainWindow::MainWindow(AppSettings settings, QWidget *parent) : QMainWindow(parent)
{
    setWindowTitle(tr("SparseScope"));
    const QString bundled = QStringLiteral(":/sparsescope.svg"); // compiled into the app, not into tests
    setWindowIcon(QIcon::fromTheme(QStringLiteral("io.github.sparsescope.SparseScope"),
                                   QFile::exists(bundled) ? QIcon(bundled) : QIcon()));
    setAcceptDrops(true);
    m_library = new ObjectLibrary(std::move(settings), this);
    m_model = new ObjectTableModel(m_library, this);
    createLayout();
    createActions();
    createMounts();
    m_previewTimer.setSingleShot(true);
    m_previewTimer.setInterval(150);
    connect(&m_previewTimer, &QTimer::timeout, this, &MainWindow::loadPreview);
    connect(m_library, &ObjectLibrary::activity, m_activity, &ActivityPanel::addEvent);
    connect(m_library, &ObjectLibrary::sampled, this, &MainWindow::onSample);
    connect(m_library, &ObjectLibrary::opened, this, [this](int row) {
        if (row == currentRow() || currentRow() < 0) {
            selectRow(row);
            showCurrent();
        }
        if (!m_demoSource.isEmpty() && m_library->entry(row).source == m_demoSource)
            showDemoActivity(row);
    });
    connect(m_library, &ObjectLibrary::operationEnded, this, &MainWindow::notifyIfAway);
    connect(m_library, &ObjectLibrary::entryChanged, this, [this](int row) {
        if (row != currentRow()) {
            updateTitle();
            return;
        }
        updateActions();
        // Not open here: its snapshot changed (another process filled or evicted it).
        const LibraryEntry &e = m_library->entry(row);
        if (!e.object && e.size >= 0)
            m_map->setSnapshot(ChunkGeometry{e.size, e.chunkSize}, e.present, e.packed);
    });
    connect(m_library, &ObjectLibrary::reset, this, [this] {
        if (currentRow() < 0 && m_library->count() > 0)
            selectRow(0);
        updateActions();
    });
    m_library->loadCache();
    updateActions();
    restoreLayout();
}

HexPreview *MainWindow::preview() const { return m_preview->hex(); }

MainWindow::~MainWindow()
{
    m_archive->setObject(nullptr); // its worker reads through an object the library is about to close
}

void MainWindow::createLayout()
{
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(ObjectTableModel::SortRole);
    m_table = new QTableView;
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ObjectTableModel::Name, Qt::AscendingOrder); // A→Z (Qt's default indicator says Z→A)
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    QHeaderView *header = m_table->horizontalHeader();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setSectionResizeMode(ObjectTableModel::Source, QHeaderView::Stretch);
    // Widths from the font, so that a scaled screen (1.5×) gets wider columns, not cut text.
    const QFontMetrics fm = m_table->fontMetrics();
    auto fit = [&](int column, const QString &sample) { m_table->setColumnWidth(column, fm.horizontalAdvance(sample) + 18); };
    fit(ObjectTableModel::Name, QStringLiteral("some-archive.tar"));
    fit(ObjectTableModel::Size, QStringLiteral("888.8 MiB"));
    fit(ObjectTableModel::Present, QStringLiteral("888.8 MiB (100.0%)"));
    fit(ObjectTableModel::OnDisk, QStringLiteral("888.8 MiB"));
    fit(ObjectTableModel::InFlight, QStringLiteral("8888 chunks"));
    fit(ObjectTableModel::Speed, QStringLiteral("88.8 MiB/s"));
    fit(ObjectTableModel::Eta, QStringLiteral("888.8 MiB, 88:88"));
    fit(ObjectTableModel::State, QStringLiteral("Prefetching… 100%"));
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] { showCurrent(); });

    m_map = new CoverageMap;
    m_mapTitle = new QLabel(tr("No object selected"));
    m_mapTitle->setTextFormat(Qt::RichText);
    m_mapTitle->setContentsMargins(6, 4, 6, 2);
    auto *mapBox = new QWidget;
    auto *mapLayout = new QVBoxLayout(mapBox);
    mapLayout->setContentsMargins(0, 0, 0, 0);
    mapLayout->setSpacing(0);
    mapLayout->addWidget(m_mapTitle);
    mapLayout->addWidget(m_map, 1);
    connect(m_map, &CoverageMap::selectionChanged, this, [this](ByteRange) {
        updateActions();
        schedulePreview();
    });

    m_chart = new ThroughputChart;
    m_preview = new PreviewPane;
    m_activity = new ActivityPanel;
    m_archive = new ArchivePane;
    connect(m_archive, &ArchivePane::activity, m_activity, &ActivityPanel::addEvent);
    connect(m_archive, &ArchivePane::spanSelected, this, [this](ByteRange span) {
        m_map->setSelection(span);
        m_previewTimer.stop(); // the entry's own content is previewed instead of raw bytes
        ++m_previewSerial;
    });
    connect(m_archive, &ArchivePane::entryPreview, this, [this](const QString &path, const QByteArray &bytes) {
        m_preview->setBytes(0, bytes);
        m_previewTitle->setText(tr("<b>Preview</b> &nbsp; %1%2").arg(path.toHtmlEscaped(),
                                                                     bytes.size() >= (64 << 10) ? tr(" (first 64 KiB)") : QString()));
    });

    auto *left = new QSplitter(Qt::Vertical);
    left->addWidget(m_table);
    left->addWidget(mapBox);
    left->addWidget(m_chart);
    left->setStretchFactor(0, 2);
    left->setStretchFactor(1, 5);
    left->setStretchFactor(2, 2);
    left->setSizes({180, 420, 180});
    auto *right = new QSplitter(Qt::Vertical);
    auto titled = [](const QString &title, QWidget *w) {
        auto *box = new QWidget;
        auto *l = new QVBoxLayout(box);
        l->setContentsMargins(0, 0, 0, 0);
        l->setSpacing(2);
        auto *label = new QLabel(QStringLiteral("<b>%1</b>").arg(title));
        label->setContentsMargins(6, 4, 6, 0);
        l->addWidget(label);
        l->addWidget(w, 1);
        return box;
    };
    m_previewTitle = new QLabel(tr("<b>Preview</b>"));
    m_previewTitle->setContentsMargins(6, 4, 6, 0);
    auto *previewBox = new QWidget;
    auto *previewLayout = new QVBoxLayout(previewBox);
    previewLayout->setContentsMargins(0, 0, 0, 0);
    previewLayout->setSpacing(2);
    previewLayout->addWidget(m_previewTitle);
    previewLayout->addWidget(m_preview, 1);
    right->addWidget(titled(tr("Archive"), m_archive));
    right->addWidget(previewBox);
    right->addWidget(titled(tr("Activity"), m_activity));
    right->setSizes({250, 330, 200});
    auto *main = new QSplitter(Qt::Horizontal);
    main->addWidget(left);
    main->addWidget(right);
    main->setStretchFactor(0, 3);
    main->setStretchFactor(1, 2);
    main->setSizes({720, 600});
    setCentralWidget(main);

    m_selectionLabel = new QLabel;
    m_selectionLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // cut, never widens the window
    m_rateLabel = new QLabel;
    m_progress = new QProgressBar;
    m_progress->setMinimumWidth(220);
    m_progress->setMaximumWidth(260);
    m_progress->setMaximumHeight(m_progress->fontMetrics().height() + 6);
    m_progress->setRange(0, 100);
    m_progress->hide();
    statusBar()->addWidget(m_selectionLabel, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_rateLabel);
    m_usageBar = new CacheUsageBar;
    statusBar()->addPermanentWidget(m_usageBar);
    connect(m_usageBar, &CacheUsageBar::evicted, m_activity, [this](const QString &message) { m_activity->addEvent(tr("cache budget"), message, false); });
    connect(m_usageBar, &CacheUsageBar::measured, this, [this] {
        QList<CacheUsageBar::Share> shares;
        for (int row = 0; row < m_library->count(); ++row)
            shares.append({m_library->entry(row).name, m_library->entry(row).allocatedBytes});
        m_usageBar->setShares(shares);
    });
    m_usageBar->setCacheDirectory(m_library->settings().cacheDir);
    connect(m_library, &ObjectLibrary::presenceChanged, m_usageBar, &CacheUsageBar::measureSoon);
}

int MainWindow::currentRow() const
{
    const QModelIndex index = m_table->selectionModel()->currentIndex();
    return index.isValid() ? m_proxy->mapToSource(index).row() : -1;
}

void MainWindow::selectRow(int libraryRow)
{
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(libraryRow, 0));
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void MainWindow::showCurrent()
{
    const int row = currentRow();
    if (row < 0) {
        m_map->setObject(nullptr);
        m_archive->setObject(nullptr);
        m_mapTitle->setText(tr("No object selected"));
        updateActions();
        return;
    }
    const LibraryEntry &e = m_library->entry(row);
    m_archive->setObject(e.object);
    if (e.object)
        m_map->setObject(e.object);
    else if (e.size >= 0)
        m_map->setSnapshot(ChunkGeometry{e.size, e.chunkSize}, e.present, e.packed);
    else
        m_map->setObject(nullptr);
    m_mapTitle->setText(tr("<b>%1</b> &nbsp; %2 &nbsp; <span style='color:gray'>%3</span>")
                            .arg(e.name.toHtmlEscaped(), e.size >= 0 ? formatBytes(e.size) : QString(),
                                 e.chunkSize > 0 ? tr("%1 chunks of %2").arg(ChunkGeometry{e.size, e.chunkSize}.chunkCount())
                                                                        .arg(formatBytes(e.chunkSize))
                                                 : QString()));
    m_library->ensureOpen(row); // so that actions work; a cached entry shows its coverage meanwhile
    m_preview->setMessage(tr("Select a range on the map to preview its bytes."));
    updateActions();
}

void MainWindow::updateActions()
{
    const int row = currentRow();
    const bool open = row >= 0 && m_library->entry(row).object != nullptr;
    const bool selection = open && !m_map->selection().isEmpty();
    const bool busy = open && (!m_library->entry(row).operation.isEmpty() || m_library->entry(row).inFlightChunks > 0);
    Actions &a = m_actions;
    for (QAction *x : {a.prefetchAll, a.evictAll, a.exportFull, a.exportSparse, a.verify})
        x->setEnabled(open);
    a.prefetchSelection->setEnabled(selection);
    a.evictSelection->setEnabled(selection);
    a.cancel->setEnabled(busy);
    const bool paused = open && m_library->entry(row).object->isPaused();
    a.pause->setEnabled(open);
    a.retry->setEnabled(open && m_library->canRetry(row));
    a.pause->setChecked(paused);
    a.pause->setText(paused ? tr("Res&ume Transfers") : tr("P&ause Transfers"));
    a.pause->setIcon(style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
    a.remove->setEnabled(row >= 0);
    a.mount->setEnabled(row >= 0 && m_library->entry(row).size >= 0);
    const ByteRange sel = m_map->selection();
    m_selectionLabel->setText(sel.isEmpty() ? tr("Click a cell or drag across the map to select bytes.")
                                            : tr("Selection: bytes %1 (%2)").arg(sel.toInclusiveString(), formatBytes(sel.length())));
    if (row >= 0 && m_library->entry(row).operationPercent >= 0 && !m_library->entry(row).operation.isEmpty()) {
        const LibraryEntry &e = m_library->entry(row);
        QString format = e.operation + QStringLiteral(" %p%");
        if (e.etaSeconds >= 0)
            format += tr(" · %1 left, %2").arg(formatBytes(e.remainingBytes), ObjectTableModel::durationText(e.etaSeconds));
        m_progress->setFormat(format);
        m_progress->setValue(e.operationPercent);
        m_progress->show();
    } else {
        m_progress->hide();
    }
    updateTitle();
}

void MainWindow::openSource(const QString &source)
{
    m_library->open(source);
    const int row = m_library->rowOf(source);
    if (row >= 0)
        selectRow(row);
}

void MainWindow::prefetchSelection()
{
    if (currentRow() >= 0 && !m_map->selection().isEmpty())
        m_library->prefetch(currentRow(), {m_map->selection()});
}

void MainWindow::prefetchAll()
{
    const int row = currentRow();
    if (row >= 0 && m_library->entry(row).size > 0)
        m_library->prefetch(row, {{0, m_library->entry(row).size}});
}

void MainWindow::evictSelection()
{
    if (currentRow() >= 0 && !m_map->selection().isEmpty())
        m_library->evict(currentRow(), {m_map->selection()});
}

void MainWindow::evictAll()
{
    const int row = currentRow();
    if (row >= 0 && m_library->entry(row).size > 0)
        m_library->evict(row, {{0, m_library->entry(row).size}});
}

void MainWindow::exportCurrent(const QString &path, ExportMode mode)
{
    if (currentRow() >= 0)
        m_library->exportTo(currentRow(), path, mode);
}

void MainWindow::chooseExport(ExportMode mode)
{
    const int row = currentRow();
    if (row < 0)
        return;
    const QString path = QFileDialog::getSaveFileName(this, mode == ExportMode::Sparse ? tr("Export Sparse") : tr("Export"),
                                                      QDir::home().filePath(m_library->entry(row).name));
    if (!path.isEmpty())
        exportCurrent(path, mode);
}

void MainWindow::verifyCurrent()
{
    if (currentRow() >= 0)
        m_library->verify(currentRow());
}

void MainWindow::cancelCurrent()
{
    if (currentRow() >= 0)
        m_library->cancel(currentRow());
}

void MainWindow::removeCurrent()
{
    const int row = currentRow();
    if (row < 0)
        return;
    m_map->setObject(nullptr);
    m_archive->setObject(nullptr);
    m_library->remove(row);
    showCurrent();
}

void MainWindow::schedulePreview() { m_previewTimer.start(); }

void MainWindow::loadPreview()
{
    const int row = currentRow();
    const ByteRange sel = m_map->selection();
    if (row < 0 || sel.isEmpty() || !m_library->entry(row).object)
        return;
    const ByteRange range{sel.begin, std::min(sel.end, sel.begin + kPreviewBytes)};
    m_preview->setMessage(tr("Reading bytes %1…").arg(range.toInclusiveString()));
    m_previewTitle->setText(tr("<b>Preview</b> &nbsp; bytes %1").arg(range.toInclusiveString()));
    const quint64 serial = ++m_previewSerial;
    // Through the engine: a missing range is fetched, and appears on the map.
    m_library->read(row, range).then(this, [this, serial, range](Result<QByteArray> bytes) {
        if (serial != m_previewSerial)
            return; // a newer selection won
        if (bytes)
            m_preview->setBytes(range.begin, *bytes);
        else
            m_preview->setMessage(bytes.error().message);
    });
}

void MainWindow::onSample(double bytesPerSecond, double hitRatio)
{
    m_chart->addSample(bytesPerSecond, hitRatio);
    m_rateLabel->setText(tr("↓ %1/s").arg(formatBytes(qint64(bytesPerSecond))) +
                         (std::isnan(hitRatio) ? QString() : tr("   hits %1%").arg(int(hitRatio * 100))));
    updateActions();
}

void MainWindow::openDemo()
{
    const QString path = demo::archivePath();
    m_demoSource = Cache::displaySource(path);
    m_activity->addEvent(tr("demo"), tr("preparing the demo archive…"), false);
    QtConcurrent::run(Cache::jobPool(), [path] { return demo::ensureArchive(path); }).then(this, [this, path](Status st) {
        if (!st) {
            m_activity->addEvent(tr("demo"), st.error().message, true);
            return;
        }
        openSource(path);
    });
}

void MainWindow::showDemoActivity(int row)
{
    // Show SparseScope at work on the demo archive: read the header of every entry (as an
    // archive browser listing it would), and materialize a few entries whole.
    const QList<demo::Entry> entries = demo::entries();
    for (const demo::Entry &e : entries)
        m_library->read(row, {e.headerOffset, e.headerOffset + 512});
    QList<ByteRange> some;
    for (int i : {3, 4, 17, 30, 31, 32})
        some.append({entries[i].headerOffset, entries[i].headerOffset + 512 + entries[i].size});
    m_library->prefetch(row, some);
    m_archive->selectEntry(4); // highlights its span on the map and previews it
    m_demoSource.clear();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls() || event->mimeData()->hasText())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() && event->mimeData()->hasText()) {
        const QString text = event->mimeData()->text().trimmed();
        if (QString why; text.startsWith(QStringLiteral("s3://"), Qt::CaseInsensitive)) { // a key is taken as written
            if (OpenUrlDialog::isAcceptable(text, &why))
                openSource(text);
            else
                m_activity->addEvent(text, why, true);
            event->acceptProposedAction();
            return;
        }
        urls.append(QUrl(text));
    }
    for (const QUrl &url : std::as_const(urls)) {
        QString why;
        if (url.isLocalFile())
            openSource(url.toLocalFile());
        else if (OpenUrlDialog::isAcceptable(url.toString(), &why))
            openSource(url.toString());
        else
            m_activity->addEvent(url.toDisplayString(QUrl::RemoveUserInfo), why, true);
    }
    event->acceptProposedAction();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_library->settings().save();
    saveLayout();
    event->accept();
}

} // namespace sparsescope
