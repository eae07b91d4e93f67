#pragma once
// SettingsDialog: cache directory, chunk size for new objects, parallel connections, timeout.

#include "appsettings.h"

#include <QDialog>

class QComboBox;
class QLineEdit;
class QSpinBox;

namespace sparsescope {

class SettingsDialog final : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(const AppSettings &settings, QWidget *parent = nullptr);
    AppSettings settings() const;

private:
    AppSettings m_settings;
    QLineEdit *m_cacheDir;
    QComboBox *m_chunkSize;
    QSpinBox *m_connections;
    QSpinBox *m_timeout;
};

// OpenUrlDialog: asks for an http(s) URL and accepts only a valid one (scheme, host).
class OpenUrlDialog final : public QDialog {
    Q_OBJECT
public:
    explicit OpenUrlDialog(QWidget *parent = nullptr);
    QString url() const;
    static bool isAcceptable(const QString &text, QString *why);

private:
    QLineEdit *m_edit;
};

} // namespace sparsescope
