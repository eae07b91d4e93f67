#pragma once
// SettingsDialog: cache directory, chunk size for new objects, parallel connections, timeout,
// and the open cache's budget (max-size, min-free-space: stored in the cache directory, so the
// CLIs on that cache honour them too).

#include "appsettings.h"
#include "cachesettings.h"

#include <QDialog>

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace sparsescope {

class SettingsDialog final : public QDialog {
    Q_OBJECT
public:
    SettingsDialog(const AppSettings &settings, const CacheSettings &cache, QWidget *parent = nullptr);
    AppSettings settings() const;
    CacheSettings cacheSettings() const { return m_cache; } // valid once accepted
    void accept() override; // refuses a budget it cannot parse, saying why

private:
    AppSettings m_settings;
    CacheSettings m_cache;
    QLineEdit *m_maxSize;
    QLineEdit *m_minFree;
    QLineEdit *m_cacheDir;
    QComboBox *m_chunkSize;
    QSpinBox *m_connections;
    QSpinBox *m_timeout;
    QSpinBox *m_maxAge;
};

// OpenUrlDialog: asks for an http(s) URL and accepts only a valid one (scheme, host); host/path
// without a scheme is taken as a browser takes it.
class OpenUrlDialog final : public QDialog {
    Q_OBJECT
public:
    explicit OpenUrlDialog(QWidget *parent = nullptr);
    QString url() const; // with its scheme (withScheme())
    static bool isAcceptable(const QString &text, QString *why);
    // "example.org/a.zip" -> "https://example.org/a.zip", "localhost:8080/a" -> "http://...";
    // text with a scheme, or that is not host/path, unchanged.
    static QString withScheme(const QString &text);

private:
    QLineEdit *m_edit;
};

} // namespace sparsescope
