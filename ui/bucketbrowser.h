#pragma once
// BucketBrowser: a dialog to browse an S3 bucket or prefix (Cache::listBucketAsync on the job
// pool; the GUI thread never waits): prefixes to step into (double-click, or Up), objects with
// size, time and how much of each this cache holds; Open (or a double-click) asks to open the
// object as any source (openRequested).

#include <QDialog>
#include <QFutureWatcher>

class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace sparsescope {

class BucketBrowser final : public QDialog {
    Q_OBJECT
public:
    // `cacheDir`: the cache whose holdings are shown; `start`: s3://BUCKET[/PREFIX] (may be empty).
    BucketBrowser(const QString &cacheDir, const QString &start, QWidget *parent = nullptr);
    QString location() const; // the prefix shown, s3://BUCKET/PREFIX/
    int rowCount() const;     // entries listed (for tests)

Q_SIGNALS:
    void openRequested(const QString &source);
    void listed(); // a listing (or its error) is shown

private:
    void browse(const QString &location);
    void up();
    void activate(QTreeWidgetItem *item);

    QString m_cacheDir;
    QLineEdit *m_location;
    QPushButton *m_up;
    QPushButton *m_open;
    QTreeWidget *m_tree;
    QLabel *m_status;
    int m_generation = 0; // answers to an older browse() are dropped
};

} // namespace sparsescope
