#include "activitypanel.h"
#include "themecolors.h"

#include <QApplication>
#include <QDateTime>
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
    // Errors of one object in a burst (a server gone mid-prefetch fails every queued request) are
    // one entry: the first error, "and N more", the others as its children.
    QTreeWidgetItem *newest = topLevelItem(0);
    if (error && newest && newest->data(0, kErrorRole).toBool() && newest->text(1) == object &&
        newest->data(0, kAtRole).toDateTime().msecsTo(QDateTime::currentDateTime()) < kGroupMs) {
        const int more = newest->childCount() + 1;
        auto *child = new QTreeWidgetItem({QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), object, message});
        child->setToolTip(2, message);
        newest->addChild(child);
        const QString first = newest->data(0, kFirstRole).toString();
        newest->setText(2, tr("%1 (and %n more)", "", more).arg(first));
        newest->setData(0, kAtRole, QDateTime::currentDateTime());
        setRootIsDecorated(true);
        return;
    }
    auto *item = new QTreeWidgetItem({QTime::currentTime().toString(QStringLiteral("HH:mm:ss")), object, message});
    item->setData(0, kErrorRole, error);
    item->setData(0, kFirstRole, message);
    item->setData(0, kAtRole, QDateTime::currentDateTime());
    item->setToolTip(2, message);
    item->setIcon(0, style()->standardIcon(error ? QStyle::SP_MessageBoxWarning : QStyle::SP_MessageBoxInformation));
    if (error)
        item->setForeground(2, theme::errorText(palette()));
    insertTopLevelItem(0, item);
    while (topLevelItemCount() > kMaxRows)
        delete takeTopLevelItem(topLevelItemCount() - 1);
}

} // namespace sparsescope
