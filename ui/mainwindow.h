#pragma once
// MainWindow: the desktop app. Object table on top, the selected object's coverage map and the
// throughput chart below, preview and activity on the right. Actions live in the menus, the
// toolbar, the map's context menu and on keyboard shortcuts; they act on the selected object and
// the map's selection, through ObjectLibrary (which drives the engine). GUI thread only; the
// window never touches a file or a socket itself.

#include "appsettings.h"
#include "sparseobject.h"

#include <QMainWindow>
#include <QTimer>

class QLabel;
class QSystemTrayIcon;
class QProgressBar;
class QSortFilterProxyModel;
class QTableView;
class QToolButton;

namespace sparsescope {

class ActivityPanel;
class ArchivePane;
class CacheUsageBar;

class MountManager;
class CoverageMap;
class HexPreview;
class PreviewPane;
class ObjectLibrary;
class ObjectTableModel;
class ThroughputChart;

class MainWindow final : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(AppSettings settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens the built-in demo archive (generated on first use) and shows it working.
    void openDemo();
    void openSource(const QString &source);

    // The building blocks, for tests and benchmarks.
    ObjectLibrary *library() const { return m_library; }
    CoverageMap *coverageMap() const { return m_map; }
    ThroughputChart *chart() const { return m_chart; }
    HexPreview *preview() const;
    ActivityPanel *activityPanel() const { return m_activity; }
    CacheUsageBar *usageBar() const { return m_usageBar; }
    ArchivePane *archivePane() const { return m_archive; }
    QTableView *table() const { return m_table; }
    int currentRow() const; // library row of the selected object, -1 if none
    void selectRow(int libraryRow);

    // What the actions do, without their dialogs.
    void prefetchSelection();
    void prefetchAll();
    void evictSelection();
    void evictAll();
    void exportCurrent(const QString &path, ExportMode mode);
    void verifyCurrent();
    void cancelCurrent();
    void removeCurrent();
    // Mounts the selected object (its file, and an archive's NAME.d) on the directory `folder`
    // through `sparsescope-cli mount` (mainwindow_mounts.cpp); the status bar shows what is mounted.
    void mountCurrent(const QString &folder);
    MountManager *mountManager() const { return m_mounts; }
    // Packs (repack false) or repacks the whole cache on the job pool, with a progress dialog
    // (pack can be cancelled) and one activity line at the end (mainwindow_cache.cpp).
    void packCache(bool repack);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    // A long operation (≥ kNotifyAfterMs) that ends while the window is not active is announced:
    // the task bar is asked for attention (QApplication::alert) and, where there is a system tray,
    // a desktop notification shows (QSystemTrayIcon::showMessage). notified() says what.
    static constexpr qint64 kNotifyAfterMs = 10000;
    void notifyIfAway(const QString &object, const QString &message, bool ok, qint64 elapsedMs);
    void updateTitle();      // "45% a.bin — SparseScope" while operations run
    void restoreLayout();    // geometry and splitters as saved (QSettings), else a size that fits the screen
    void saveLayout() const;

Q_SIGNALS:
    void notified(const QString &text);
    void cacheJobFinished(const QString &message, bool ok); // after packCache()

private:
    void createActions();
    void createLayout();
    void createMounts(); // the manager, its status-bar button and activity lines
    void updateActions();
    void showCurrent();
    void schedulePreview();
    void loadPreview();
    void onSample(double bytesPerSecond, double hitRatio);
    void chooseExport(ExportMode mode);
    void showDemoActivity(int row);

    ObjectLibrary *m_library;
    ObjectTableModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_table;
    CoverageMap *m_map;
    QLabel *m_mapTitle;
    ThroughputChart *m_chart;
    PreviewPane *m_preview;
    ArchivePane *m_archive;
    QLabel *m_previewTitle;
    ActivityPanel *m_activity;
    QLabel *m_selectionLabel;
    QLabel *m_rateLabel;
    CacheUsageBar *m_usageBar;
    MountManager *m_mounts = nullptr;
    QToolButton *m_mountsButton = nullptr; // "N mounted", a menu to unmount each
    QSystemTrayIcon *m_tray = nullptr; // created for the first notification, where there is a tray
    QProgressBar *m_progress;
    QTimer m_previewTimer;
    QString m_demoSource;
    quint64 m_previewSerial = 0;

    struct Actions {
        QAction *openFile, *openUrl, *browseS3, *exportFull, *exportSparse, *quit;
        QAction *prefetchSelection, *prefetchAll, *evictSelection, *evictAll, *verify, *cancel, *pause, *retry, *remove;
        QAction *settings, *about, *packCache, *repackCache, *mount;
    } m_actions{};
    QString m_lastBucket; // where the S3 browser was last
};

} // namespace sparsescope
