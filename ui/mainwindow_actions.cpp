// MainWindow: its actions (menus, toolbar, shortcuts), its title, and the layout it remembers.
#include "mainwindow.h"
#include "bucketbrowser.h"
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
#include <QSystemTrayIcon>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <cmath>

namespace sparsescope {

void MainWindow::createActions()
{
    auto make = [this](const QString &text, QStyle::StandardPixmap icon, const QKeySequence &key, auto slot) {
        auto *a = new QAction(style()->standardIcon(icon), text, this);
        if (!key.isEmpty())
            a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    Actions &a = m_actions;
    a.openFile = make(tr("Open &File…"), QStyle::SP_DialogOpenButton, QKeySequence::Open, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open File"));
        if (!path.isEmpty())
            openSource(path);
    });
    a.openUrl = make(tr("Open &URL…"), QStyle::SP_DriveNetIcon, QKeySequence(tr("Ctrl+L")), [this] {
        OpenUrlDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted)
            openSource(dialog.url());
    });
    a.browseS3 = make(tr("&Browse S3…"), QStyle::SP_DirOpenIcon, QKeySequence(tr("Ctrl+B")), [this] {
        auto *browser = new BucketBrowser(m_library->settings().cacheDir, m_lastBucket, this);
        browser->setAttribute(Qt::WA_DeleteOnClose);
        connect(browser, &BucketBrowser::openRequested, this, [this](const QString &source) { openSource(source); });
        connect(browser, &QDialog::finished, this, [this, browser] { m_lastBucket = browser->location(); });
        browser->show();
    });
    a.exportFull = make(tr("&Export…"), QStyle::SP_DialogSaveButton, QKeySequence(tr("Ctrl+E")), [this] { chooseExport(ExportMode::Full); });
    a.exportSparse = make(tr("Export &Sparse…"), QStyle::SP_DialogSaveButton, QKeySequence(tr("Ctrl+Shift+E")),
                          [this] { chooseExport(ExportMode::Sparse); });
    a.quit = make(tr("&Quit"), QStyle::SP_DialogCloseButton, QKeySequence::Quit, [this] { close(); });
    a.prefetchSelection = make(tr("&Prefetch Selection"), QStyle::SP_ArrowDown, QKeySequence(tr("P")), [this] { prefetchSelection(); });
    a.prefetchAll = make(tr("Prefetch &Whole Object"), QStyle::SP_ArrowDown, QKeySequence(tr("Shift+P")), [this] { prefetchAll(); });
    a.evictSelection = make(tr("E&vict Selection"), QStyle::SP_TrashIcon, QKeySequence(QKeySequence::Delete), [this] { evictSelection(); });
    a.evictAll = make(tr("Evict Whole &Object"), QStyle::SP_TrashIcon, QKeySequence(tr("Shift+Del")), [this] { evictAll(); });
    a.verify = make(tr("&Verify"), QStyle::SP_DialogApplyButton, QKeySequence(tr("Ctrl+Shift+V")), [this] { verifyCurrent(); });
    a.cancel = make(tr("&Cancel Operations"), QStyle::SP_BrowserStop, QKeySequence(Qt::Key_Escape), [this] { cancelCurrent(); });
    a.pause = make(tr("P&ause Transfers"), QStyle::SP_MediaPause, QKeySequence(tr("Ctrl+Shift+Space")), [this] {
        if (const int row = currentRow(); row >= 0 && m_library->entry(row).object)
            m_library->setPaused(row, m_actions.pause->isChecked());
    });
    a.pause->setCheckable(true);
    a.retry = make(tr("&Retry"), QStyle::SP_BrowserReload, QKeySequence(tr("Ctrl+R")), [this] {
        if (const int row = currentRow(); row >= 0)
            m_library->retry(row);
    });
    a.remove = make(tr("&Remove from Cache"), QStyle::SP_DialogDiscardButton, QKeySequence(), [this] {
        if (currentRow() < 0)
            return;
        const auto answer = QMessageBox::question(this, tr("Remove from Cache"),
                                                  tr("Remove %1 and all its cached bytes?").arg(m_library->entry(currentRow()).name));
        if (answer == QMessageBox::Yes)
            removeCurrent();
    });
    a.settings = make(tr("&Preferences…"), QStyle::SP_FileDialogDetailedView, QKeySequence::Preferences, [this] {
        SettingsDialog dialog(m_library->settings(), m_usageBar->usage().settings, this);
        if (dialog.exec() != QDialog::Accepted)
            return;
        m_library->setSettings(dialog.settings());
        const QString dir = m_library->settings().cacheDir;
        if (dialog.cacheSettings() != m_usageBar->usage().settings) {
            // Stored in the cache directory (the new one, if it changed too), off the GUI thread.
            runOnPool(Cache::jobPool(), [dir, budget = dialog.cacheSettings()] { return Cache(dir).saveSettings(budget); })
                .then(this, [this](Status st) {
                    if (!st)
                        m_activity->addEvent(tr("cache budget"), st.error().message, true);
                    m_usageBar->measureNow();
                });
        }
        m_usageBar->setCacheDirectory(dir);
    });
    a.packCache = make(tr("&Pack Cache"), QStyle::SP_DriveHDIcon, QKeySequence(), [this] { packCache(false); });
    a.packCache->setToolTip(tr("Move every object's present chunks into shared pack files: identical chunks stored once, "
                               "compressed where that pays; reads stay the same"));
    a.repackCache = make(tr("&Repack Cache"), QStyle::SP_DriveHDIcon, QKeySequence(), [this] { packCache(true); });
    a.repackCache->setToolTip(tr("Rewrite the packs without the chunks no object holds any more, giving the space back"));
    a.about = make(tr("&About SparseScope"), QStyle::SP_MessageBoxInformation, QKeySequence(), [this] {
        QMessageBox::about(this, tr("About SparseScope"),
                           tr("<h3>SparseScope %1</h3><p>Sparse, out-of-order materialization of large byte objects: "
                              "fetch only the byte ranges you read, keep them in a crash-safe sparse cache, and see "
                              "what is present.</p>").arg(QStringLiteral(SPARSESCOPE_VERSION)));
    });

    a.mount = make(tr("&Mount…"), QStyle::SP_DirLinkIcon, QKeySequence(tr("Ctrl+M")), [this] {
        if (currentRow() < 0)
            return;
        const QString folder = QFileDialog::getExistingDirectory(this, tr("Mount %1 on an empty folder").arg(m_library->entry(currentRow()).name));
        if (!folder.isEmpty())
            mountCurrent(folder);
    });

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addActions({a.openFile, a.openUrl, a.browseS3});
    file->addSeparator();
    file->addActions({a.exportFull, a.exportSparse});
    file->addSeparator();
    file->addAction(a.quit);
    QMenu *object = menuBar()->addMenu(tr("&Object"));
    object->addActions({a.prefetchSelection, a.prefetchAll});
    object->addSeparator();
    object->addActions({a.evictSelection, a.evictAll});
    object->addSeparator();
    object->addActions({a.verify, a.pause, a.retry, a.cancel, a.remove});
    object->addSeparator();
    object->addAction(a.mount);
    QMenu *cache = menuBar()->addMenu(tr("&Cache"));
    cache->addActions({a.packCache, a.repackCache});
    menuBar()->addMenu(tr("&Settings"))->addAction(a.settings);
    menuBar()->addMenu(tr("&Help"))->addAction(a.about);

    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setMovable(false);
    bar->addActions({a.openFile, a.openUrl});
    bar->addSeparator();
    bar->addActions({a.prefetchSelection, a.evictSelection});
    bar->addSeparator();
    bar->addActions({a.exportFull, a.verify, a.pause, a.cancel});

    m_map->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_map->addActions({a.prefetchSelection, a.evictSelection});
    auto *sep = new QAction(this);
    sep->setSeparator(true);
    m_map->addAction(sep);
    m_map->addActions({a.prefetchAll, a.evictAll, a.exportFull, a.exportSparse});
    m_table->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_table->addActions({a.prefetchAll, a.evictAll, a.exportFull, a.verify, a.remove});
}

void MainWindow::notifyIfAway(const QString &object, const QString &message, bool ok, qint64 elapsedMs)
{
    if (elapsedMs < kNotifyAfterMs || isActiveWindow())
        return;
    const QString title = ok ? tr("%1: done").arg(object) : tr("%1: failed").arg(object);
    QApplication::alert(this); // the task bar entry asks for attention
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_tray) {
            m_tray = new QSystemTrayIcon(windowIcon().isNull() ? style()->standardIcon(QStyle::SP_DriveNetIcon) : windowIcon(), this);
            connect(m_tray, &QSystemTrayIcon::messageClicked, this, [this] {
                showNormal();
                raise();
                activateWindow();
            });
        }
        m_tray->show();
        m_tray->showMessage(title, message, ok ? QSystemTrayIcon::Information : QSystemTrayIcon::Warning, 8000);
    }
    Q_EMIT notified(title + QStringLiteral(": ") + message);
}

void MainWindow::updateTitle()
{
    // The progress of every running operation, so that it shows in the task bar too.
    qint64 want = 0, left = 0;
    QStringList names;
    for (int row = 0; row < m_library->count(); ++row) {
        const LibraryEntry &e = m_library->entry(row);
        if (e.operation.isEmpty() || e.remainingBytes < 0)
            continue;
        for (const ByteRange &r : e.operationRanges)
            want += r.length();
        left += e.remainingBytes;
        names << e.name;
    }
    if (want <= 0) {
        setWindowTitle(tr("SparseScope"));
        return;
    }
    const int pct = int(100 * (want - left) / want);
    setWindowTitle(names.size() == 1 ? tr("%1% %2 — SparseScope").arg(pct).arg(names.first())
                                     : tr("%1% %2 objects — SparseScope").arg(pct).arg(names.size()));
}

void MainWindow::restoreLayout()
{
    // The size and splitters the user left, else a size that fits the screen (at 1.5× scale a
    // fixed 1360×860 would not).
    const QSettings s;
    if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray())) {
        QSize size(1360, 860);
        if (const QScreen *screen = QGuiApplication::primaryScreen())
            size = size.boundedTo(screen->availableGeometry().size() * 0.9);
        resize(size);
    }
    const QList<QSplitter *> splitters = findChildren<QSplitter *>();
    for (int i = 0; i < splitters.size(); ++i)
        splitters[i]->restoreState(s.value(QStringLiteral("window/splitter%1").arg(i)).toByteArray());
}

void MainWindow::saveLayout() const
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    const QList<QSplitter *> splitters = findChildren<QSplitter *>();
    for (int i = 0; i < splitters.size(); ++i)
        s.setValue(QStringLiteral("window/splitter%1").arg(i), splitters[i]->saveState());
}

} // namespace sparsescope
