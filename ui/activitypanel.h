#pragma once
// ActivityPanel: errors and notable events (time, object, message), newest first, errors marked.
// Keeps the last kMaxRows. GUI thread only.

#include <QTreeWidget>

namespace sparsescope {

class ActivityPanel final : public QTreeWidget {
    Q_OBJECT
public:
    static constexpr int kMaxRows = 500;
    explicit ActivityPanel(QWidget *parent = nullptr);
    void addEvent(const QString &object, const QString &message, bool error);
};

} // namespace sparsescope
