#include "activitypanel.h"

#include <QApplication>
#include <QHeaderView>
#include <QStyle>
#include <QTime>

namespace sparsescope {

ActivityPanel::ActivityPanel(QWidget *parent) : QTreeWidget(parent)
{
    setColumnCount(3);
    setHeaderLabels({tr("Time"), tr("Object"), tr("Event")});
    setRootIsDecorated(false);
    setUniformRowHeights(true);
    setAlternatingRowColors(true);
    header()->setStretchLastSection(true);
    header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    setColumnWidth(1, 160);
}

void ActivityPanel::addEvent(const QString &object, const QString &message, bool error)
{
    auto *item = new QTreeWidgetItem({QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), object, message});
    item->setToolTip(2, message);
    item->setIcon(0, style()->standardIcon(error ? QStyle::SP_MessageBoxWarning : QStyle::SP_MessageBoxInformation));
    if (error)
        item->setForeground(2, QColor(0xc0, 0x20, 0x20));
    insertTopLevelItem(0, item);
    while (topLevelItemCount() > kMaxRows)
        delete takeTopLevelItem(topLevelItemCount() - 1);
}

} // namespace sparsescope
