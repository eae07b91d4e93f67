#include "settingsdialog.h"
#include "rangeparse.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QUrl>

namespace sparsescope {

SettingsDialog::SettingsDialog(const AppSettings &settings, const CacheSettings &cache, QWidget *parent)
    : QDialog(parent), m_settings(settings), m_cache(cache)
{
    setWindowTitle(tr("Preferences"));
    auto *form = new QFormLayout;
    m_cacheDir = new QLineEdit(settings.cacheDir);
    auto *browse = new QPushButton(tr("Browse…"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Cache directory"), m_cacheDir->text());
        if (!dir.isEmpty())
            m_cacheDir->setText(dir);
    });
    auto *row = new QHBoxLayout;
    row->addWidget(m_cacheDir);
    row->addWidget(browse);
    form->addRow(tr("Cache directory:"), row);
    m_chunkSize = new QComboBox;
    for (qint64 size : {qint64(64) << 10, qint64(128) << 10, qint64(256) << 10, qint64(512) << 10, qint64(1) << 20, qint64(4) << 20})
        m_chunkSize->addItem(formatBytes(size), size);
    m_chunkSize->setCurrentIndex(std::max(0, m_chunkSize->findData(settings.chunkSize)));
    form->addRow(tr("Chunk size for new objects:"), m_chunkSize);
    m_connections = new QSpinBox;
    m_connections->setRange(1, 64);
    m_connections->setValue(settings.connections);
    form->addRow(tr("Parallel connections:"), m_connections);
    m_timeout = new QSpinBox;
    m_timeout->setRange(1, 3600);
    m_timeout->setSuffix(tr(" s"));
    m_timeout->setValue(settings.timeoutSeconds);
    form->addRow(tr("Inactivity timeout:"), m_timeout);
    m_maxAge = new QSpinBox;
    m_maxAge->setRange(0, 365 * 86400);
    m_maxAge->setSuffix(tr(" s"));
    m_maxAge->setSpecialValueText(tr("always ask the server"));
    m_maxAge->setValue(settings.maxAgeSeconds);
    m_maxAge->setToolTip(tr("An object checked upstream less than this long ago opens from the cache without asking the "
                            "server whether it changed (as --max-age)."));
    form->addRow(tr("Trust cached objects for:"), m_maxAge);
    m_maxSize = new QLineEdit(cache.maxSize ? CacheSettings::sizeText(*cache.maxSize) : QString());
    m_maxSize->setPlaceholderText(tr("none (e.g. 20G)"));
    m_maxSize->setToolTip(tr("The most disk the cache may take. Past 95 % of it, the least recently used chunks are evicted down to 90 %."));
    form->addRow(tr("Cache size limit:"), m_maxSize);
    m_minFree = new QLineEdit(cache.minFreeSpace > 0 ? CacheSettings::sizeText(cache.minFreeSpace) : QStringLiteral("0"));
    m_minFree->setToolTip(tr("Chunks are evicted when the cache's disk has less than this free."));
    form->addRow(tr("Keep free on disk:"), m_minFree);
    auto *note = new QLabel(tr("Chunk size applies to objects cached from now on; connections, timeout and trust to objects opened from now on. "
                               "The size limit and free space belong to the cache directory: every program using it honours them."));
    note->setWordWrap(true);
    note->setForegroundRole(QPalette::PlaceholderText);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(note);
    layout->addWidget(buttons);
}

AppSettings SettingsDialog::settings() const
{
    AppSettings s = m_settings;
    s.cacheDir = m_cacheDir->text().trimmed();
    if (s.cacheDir != m_settings.cacheDir)
        s.cacheDirForThisRun = false; // chosen here: the default from now on
    s.chunkSize = m_chunkSize->currentData().toLongLong();
    s.connections = m_connections->value();
    s.timeoutSeconds = m_timeout->value();
    s.maxAgeSeconds = m_maxAge->value();
    return s;
}

void SettingsDialog::accept()
{
    CacheSettings c = m_cache;
    const QString max = m_maxSize->text().trimmed();
    Status st = c.set(QStringLiteral("max-size"), max.isEmpty() ? QStringLiteral("none") : max);
    if (st)
        st = c.set(QStringLiteral("min-free-space"), m_minFree->text().trimmed().isEmpty() ? QStringLiteral("0") : m_minFree->text());
    if (!st) {
        QMessageBox::warning(this, windowTitle(), st.error().message);
        return;
    }
    m_cache = c;
    QDialog::accept();
}

OpenUrlDialog::OpenUrlDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Open URL"));
    m_edit = new QLineEdit;
    m_edit->setPlaceholderText(QStringLiteral("https://example.org/big-archive.zip"));
    m_edit->setMinimumWidth(460);
    auto *hint = new QLabel;
    hint->setForegroundRole(QPalette::PlaceholderText);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel);
    QPushButton *ok = buttons->button(QDialogButtonBox::Open);
    ok->setEnabled(false);
    connect(m_edit, &QLineEdit::textChanged, this, [ok, hint](const QString &text) {
        QString why;
        const bool good = isAcceptable(text, &why);
        ok->setEnabled(good);
        hint->setText(text.isEmpty() ? QString() : why);
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("URL of an HTTP(S) object that supports byte ranges, or s3://BUCKET/KEY:")));
    layout->addWidget(m_edit);
    layout->addWidget(hint);
    layout->addWidget(buttons);
}

QString OpenUrlDialog::url() const { return withScheme(m_edit->text()); }

QString OpenUrlDialog::withScheme(const QString &text)
{
    // "host/path" as a browser takes it: https:// unless the host is this machine (http://). Only
    // when the first segment looks like a host (a dot, a port, or localhost) — never a local path.
    const QString t = text.trimmed();
    if (t.isEmpty() || t.contains(QStringLiteral("://")) || t.startsWith(u'/') || t.startsWith(u'.') || t.startsWith(u'~'))
        return t;
    const QString host = t.section(u'/', 0, 0);
    const QString name = host.section(u':', 0, 0).toLower();
    const bool port = host.contains(u':');
    const bool looksLikeHost = !name.isEmpty() && (name.contains(u'.') || name == u"localhost" || port) &&
                               !name.contains(u' ') && t.contains(u'/');
    if (!looksLikeHost)
        return t;
    const bool local = name == u"localhost" || name.startsWith(QStringLiteral("127.")) || name == u"[::1]";
    return (local ? QStringLiteral("http://") : QStringLiteral("https://")) + t;
}

bool OpenUrlDialog::isAcceptable(const QString &text, QString *why)
{
    if (text.trimmed().startsWith(QStringLiteral("s3://"), Qt::CaseInsensitive)) {
        // s3://BUCKET/KEY, the key as the AWS CLI writes it (spaces and UTF-8 as they are).
        const QString rest = text.trimmed().mid(5);
        const qsizetype slash = rest.indexOf(u'/');
        if (slash <= 0 || slash == rest.size() - 1 || rest.endsWith(u'/')) {
            *why = tr("Write s3://BUCKET/KEY: a bucket and the key of one object.");
            return false;
        }
        *why = tr("OK (credentials, region and endpoint as the AWS CLI finds them)");
        return true;
    }
    const QUrl url(withScheme(text), QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid()) {
        *why = tr("Not a valid URL.");
        return false;
    }
    if (scheme != u"http" && scheme != u"https") {
        *why = tr("Only http://, https:// and s3:// URLs can be opened here (use Open File for local files).");
        return false;
    }
    if (url.host().isEmpty()) {
        *why = tr("The URL has no host.");
        return false;
    }
    if (url.path().isEmpty() || url.path() == u"/") {
        *why = tr("The URL names no object (its path is empty).");
        return false;
    }
    *why = text.trimmed().contains(QStringLiteral("://")) ? tr("OK") : tr("Opens %1").arg(url.toString());
    return true;
}

} // namespace sparsescope
