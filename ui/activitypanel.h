#pragma once
// ActivityPanel: errors and notable events (time, object, message), newest first, errors marked.
// Errors of one object less than kGroupMs apart are grouped: one entry with the first error and
// their count, the rest as its children. Keeps the last kMaxRows. GUI thread only.

#include <QTreeWidget>

namespace sparsescope {

class ActivityPanel final : public QTreeWidget {
    Q_OBJECT
public:
    static constexpr int kMaxRows = 500;
    static constexpr int kGroupMs = 10000;
    explicit ActivityPanel(QWidget *parent = nullptr);
    void addEvent(const QString &object, const QString &message, bool error);

private:
    enum Roles { kErrorRole = Qt::UserRole + 1, kFirstRole, kAtRole };
};

} // namespace sparsescope
