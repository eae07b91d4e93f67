#pragma once
// A one-line progress bar on stderr for the CLI: present bytes of the object, total, and the
// rate at which chunks are being stored, redrawn five times a second.

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace sparsescope {
class SparseObject;
}

namespace sparsescope::cli {

class ProgressBar final : public QObject {
public:
    ProgressBar(const SparseObject *object, bool enabled);
    ~ProgressBar() override; // ends the line

private:
    void draw();

    const SparseObject *m_object;
    bool m_enabled;
    QTimer m_timer;
    QElapsedTimer m_clock;
};

} // namespace sparsescope::cli
