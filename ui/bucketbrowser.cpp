#include "bucketbrowser.h"
#include "cache.h"
#include "rangeparse.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace sparsescope {

namespace {
enum Column { Name, Size, Modified, Cached };
constexpr int kSourceRole = Qt::UserRole;
constexpr int kPrefixRole = Qt::UserRole + 1;
constexpr int kBytesRole = Qt::UserRole + 2;

// Sizes sort by bytes, not by their text ("9 KiB" < "10 MiB"); prefixes come first.
class Item final : public QTreeWidgetItem {
public:
    bool operator<(const QTreeWidgetItem &other) const override
    {
        const bool prefix = !data(Name, kPrefixRole).toString().isEmpty(), otherPrefix = !other.data(Name, kPrefixRole).toString().isEmpty();
        if (prefix != otherPrefix)
            return prefix;
        if (treeWidget() && (treeWidget()->sortColumn() == Size || treeWidget()->sortColumn() == Cached)) {
            const int column = treeWidget()->sortColumn();
            return data(column, kBytesRole).toLongLong() < other.data(column, kBytesRole).toLongLong();
        }
        return QTreeWidgetItem::operator<(other);
    }
};
} // namespace

BucketBrowser::BucketBrowser(const QString &cacheDir, const QString &start, QWidget *parent) : QDialog(parent), m_cacheDir(cacheDir)
{
    setWindowTitle(tr("Browse S3"));
    m_location = new QLineEdit(start);
    m_location->setPlaceholderText(QStringLiteral("s3://bucket/prefix/"));
    auto *go = new QPushButton(tr("&List"));
    m_up = new QPushButton(style()->standardIcon(QStyle::SP_FileDialogToParent), tr("&Up"));
    m_tree = new QTreeWidget;
    m_tree->setColumnCount(4);
    m_tree->setHeaderLabels({tr("Name"), tr("Size"), tr("Modified (UTC)"), tr("Cached")});
    m_tree->setRootIsDecorated(false);
    m_tree->setUniformRowHeights(true);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(Name, Qt::AscendingOrder);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(Name, QHeaderView::Stretch);
    for (int column : {Size, Modified, Cached})
        m_tree->header()->setSectionResizeMode(column, QHeaderView::ResizeToContents);
    m_tree->setMinimumSize(640, 360);
    m_status = new QLabel;
    m_status->setForegroundRole(QPalette::PlaceholderText);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Close);
    m_open = buttons->button(QDialogButtonBox::Open);
    m_open->setEnabled(false);
    auto *top = new QHBoxLayout;
    top->addWidget(m_up);
    top->addWidget(m_location, 1);
    top->addWidget(go);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_tree, 1);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    connect(go, &QPushButton::clicked, this, [this] { browse(m_location->text()); });
    connect(m_location, &QLineEdit::returnPressed, this, [this] { browse(m_location->text()); });
    connect(m_up, &QPushButton::clicked, this, &BucketBrowser::up);
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) { activate(item); });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        m_open->setEnabled(item && !item->data(Name, kSourceRole).toString().isEmpty());
    });
    connect(buttons, &QDialogButtonBox::accepted, this, [this] { activate(m_tree->currentItem()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    if (!start.isEmpty())
        browse(start);
}

QString BucketBrowser::location() const { return m_location->text(); }
int BucketBrowser::rowCount() const { return m_tree->topLevelItemCount(); }

void BucketBrowser::browse(const QString &text)
{
    QString location = text.trimmed();
    if (!location.startsWith(QStringLiteral("s3://"), Qt::CaseInsensitive))
        location.prepend(QStringLiteral("s3://"));
    if (location.count(u'/') < 3)
        location += u'/'; // s3://bucket -> s3://bucket/
    m_location->setText(location);
    m_tree->clear();
    m_open->setEnabled(false);
    m_status->setText(tr("Listing %1 …").arg(location));
    const int generation = ++m_generation;
    const QString bucketRoot = location.section(u'/', 0, 2) + u'/';
    Cache(m_cacheDir).listBucketAsync(location, /*recursive=*/false, /*holdings=*/true).then(this, [this, generation, bucketRoot](Result<BucketListing> r) {
        if (generation != m_generation)
            return; // the user went elsewhere meanwhile
        if (!r) {
            m_status->setText(r.error().message);
            Q_EMIT listed();
            return;
        }
        m_tree->setSortingEnabled(false);
        int objects = 0, prefixes = 0;
        for (const BucketEntry &b : std::as_const(r->entries)) {
            const s3::ListEntry &e = b.entry;
            auto *item = new Item;
            const QString shown = e.key.section(u'/', e.isPrefix ? -2 : -1, -1);
            item->setText(Name, shown);
            item->setToolTip(Name, bucketRoot + e.key);
            if (e.isPrefix) {
                ++prefixes;
                item->setIcon(Name, style()->standardIcon(QStyle::SP_DirIcon));
                item->setData(Name, kPrefixRole, bucketRoot + e.key);
            } else {
                ++objects;
                item->setIcon(Name, style()->standardIcon(QStyle::SP_FileIcon));
                item->setData(Name, kSourceRole, b.source);
                item->setText(Size, formatBytes(e.size));
                item->setData(Size, kBytesRole, e.size);
                item->setData(Cached, kBytesRole, b.cachedBytes);
                item->setTextAlignment(Size, Qt::AlignRight | Qt::AlignVCenter);
                item->setText(Modified, e.lastModified.toString(QStringLiteral("yyyy-MM-dd HH:mm")));
                item->setText(Cached, b.cachedBytes < 0 ? QString()
                                                        : QStringLiteral("%1 (%2 %)").arg(formatBytes(b.cachedBytes))
                                                              .arg(e.size > 0 ? 100.0 * b.cachedBytes / e.size : 100.0, 0, 'f', 0));
            }
            m_tree->addTopLevelItem(item);
        }
        m_tree->setSortingEnabled(true);
        m_status->setText((objects == 1 ? tr("1 object") : tr("%1 objects").arg(objects)) + QStringLiteral(", ") +
                          (prefixes == 1 ? tr("1 prefix") : tr("%1 prefixes").arg(prefixes)));
        Q_EMIT listed();
    });
}

void BucketBrowser::up()
{
    QString location = m_location->text();
    if (location.endsWith(u'/'))
        location.chop(1);
    const qsizetype cut = location.lastIndexOf(u'/');
    if (cut > 4) // keep "s3://bucket/"
        browse(location.left(cut + 1));
}

void BucketBrowser::activate(QTreeWidgetItem *item)
{
    if (!item)
        return;
    if (const QString prefix = item->data(Name, kPrefixRole).toString(); !prefix.isEmpty()) {
        browse(prefix);
        return;
    }
    if (const QString source = item->data(Name, kSourceRole).toString(); !source.isEmpty()) {
        Q_EMIT openRequested(source);
        accept();
    }
}

} // namespace sparsescope
