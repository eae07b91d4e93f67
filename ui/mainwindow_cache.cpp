// MainWindow: jobs on the whole cache (pack, repack), with a progress dialog, on the job pool.
#include "mainwindow.h"
#include "activitypanel.h"
#include "cache.h"
#include "cacheusagebar.h"
#include "handoff.h"
#include "objectlibrary.h"
#include "rangeparse.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QProgressDialog>
#include <QTimer>

#include <atomic>

namespace sparsescope {

void MainWindow::packCache(bool repack)
{
    const QString dir = m_library->settings().cacheDir;
    struct Shared {
        std::atomic<qint64> done{0}, total{0};
        std::atomic<bool> cancel{false};
    };
    auto shared = std::make_shared<Shared>();
    m_actions.packCache->setEnabled(false);
    m_actions.repackCache->setEnabled(false);
    auto *dialog = new QProgressDialog(repack ? tr("Repacking the cache…") : tr("Packing the cache…"),
                                       repack ? QString() : tr("Cancel"), 0, 1000, this);
    dialog->setWindowTitle(repack ? tr("Repack Cache") : tr("Pack Cache"));
    dialog->setWindowModality(Qt::NonModal);
    dialog->setAutoClose(false);
    dialog->setAutoReset(false);
    dialog->setMinimumDuration(400);
    connect(dialog, &QProgressDialog::canceled, this, [shared, dialog] {
        shared->cancel = true;
        dialog->setLabelText(tr("Stopping after the current batch…"));
    });
    // The worker only writes atomics; the dialog reads them five times a second.
    auto *poll = new QTimer(dialog);
    connect(poll, &QTimer::timeout, dialog, [shared, dialog, repack] {
        const qint64 total = shared->total.load(), done = shared->done.load();
        if (total <= 0)
            return;
        dialog->setValue(int(1000 * std::min(done, total) / total));
        if (!repack && !shared->cancel)
            dialog->setLabelText(tr("Packing the cache… %1 of %2").arg(formatBytes(done), formatBytes(total)));
    });
    poll->start(200);
    QElapsedTimer clock;
    clock.start();
    auto job = [dir, shared, repack]() -> std::pair<QString, bool> {
        auto progress = [shared](qint64 done, qint64 total) {
            shared->done = done;
            shared->total = total;
            return !shared->cancel.load();
        };
        const Cache cache(dir);
        if (repack) {
            auto r = cache.repack(progress, 0);
            if (!r)
                return {r.error().message, false};
            return {tr("repacked %1 packs: dropped %2 unused contents; pack files %3 → %4")
                        .arg(r->rewrittenPacks).arg(r->droppedContents).arg(formatBytes(r->bytesBefore), formatBytes(r->bytesAfter)),
                    true};
        }
        auto r = cache.pack({}, progress, 0);
        if (!r)
            return {r.error().message, r.error().kind == ErrorKind::Cancelled};
        return {tr("packed %1 chunks of %2 objects, %3 into %4 of new pack data").arg(r->chunks).arg(r->objects)
                    .arg(formatBytes(r->bytes), formatBytes(r->storedBytes)),
                true};
    };
    runOnPool(Cache::jobPool(), job).then(this, [this, dialog = QPointer<QProgressDialog>(dialog), repack, clock](std::pair<QString, bool> result) {
        if (dialog)
            dialog->deleteLater();
        m_actions.packCache->setEnabled(true);
        m_actions.repackCache->setEnabled(true);
        const QString what = repack ? tr("repack") : tr("pack");
        m_activity->addEvent(what, result.first, !result.second);
        m_usageBar->measureNow();
        m_library->rescan(); // the on-disk shares of the packs
        notifyIfAway(what, result.first, result.second, clock.elapsed());
        Q_EMIT cacheJobFinished(result.first, result.second);
    });
}

} // namespace sparsescope
