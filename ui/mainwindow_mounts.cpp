// MainWindow: mounting objects as files (MountManager runs `sparsescope-cli mount`), and the
// status-bar button that shows what is mounted and unmounts it.
#include "activitypanel.h"
#include "cache.h"
#include "mainwindow.h"
#include "mountmanager.h"
#include "objectlibrary.h"

#include <QMenu>
#include <QStatusBar>
#include <QStyle>
#include <QToolButton>

namespace sparsescope {

void MainWindow::createMounts()
{
    m_mounts = new MountManager({}, this);
    m_mountsButton = new QToolButton;
    m_mountsButton->setAutoRaise(true);
    m_mountsButton->setPopupMode(QToolButton::InstantPopup);
    m_mountsButton->setIcon(style()->standardIcon(QStyle::SP_DirLinkIcon));
    m_mountsButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_mountsButton->setMenu(new QMenu(m_mountsButton));
    m_mountsButton->hide();
    // The first permanent widget: index 1, after the one normal widget (the selection label,
    // createLayout()); QStatusBar counts both kinds.
    statusBar()->insertPermanentWidget(1, m_mountsButton);
    connect(m_mounts, &MountManager::changed, this, [this] {
        QMenu *menu = m_mountsButton->menu();
        menu->clear();
        int ready = 0;
        for (const MountManager::Mount &m : m_mounts->mounts()) {
            ready += m.ready ? 1 : 0;
            QAction *a = menu->addAction(m.ready ? tr("Unmount %1 from %2").arg(Cache::displayName(m.source), m.mountPoint)
                                                 : tr("Mounting %1 on %2…").arg(Cache::displayName(m.source), m.mountPoint));
            a->setEnabled(m.ready);
            connect(a, &QAction::triggered, m_mounts, [this, point = m.mountPoint] { m_mounts->unmount(point); });
        }
        m_mountsButton->setText(tr("%n mounted", "", ready));
        m_mountsButton->setToolTip(tr("Objects mounted as files; click to unmount one"));
        m_mountsButton->setVisible(!m_mounts->mounts().empty());
    });
    connect(m_mounts, &MountManager::mounted, this, [this](const QString &source, const QString &point) {
        m_activity->addEvent(Cache::displayName(source), tr("mounted on %1: its reads show on the map").arg(point), false);
    });
    connect(m_mounts, &MountManager::unmounted, this, [this](const QString &source, const QString &point) {
        m_activity->addEvent(Cache::displayName(source), tr("unmounted from %1").arg(point), false);
    });
    connect(m_mounts, &MountManager::failed, this, [this](const QString &source, const QString &message) {
        m_activity->addEvent(Cache::displayName(source), tr("mount: %1").arg(message), true);
    });
}

void MainWindow::mountCurrent(const QString &folder)
{
    const int row = currentRow();
    if (row < 0)
        return;
    m_mounts->mount(m_library->entry(row).source, folder, m_library->settings().cacheDir);
}

} // namespace sparsescope
