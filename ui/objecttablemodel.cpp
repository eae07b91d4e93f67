#include "objecttablemodel.h"
#include "themecolors.h"

#include <QGuiApplication>
#include "sparseobject.h"
#include "objectlibrary.h"
#include "rangeparse.h"

#include <QColor>
#include <QIcon>

namespace sparsescope {

ObjectTableModel::ObjectTableModel(ObjectLibrary *library, QObject *parent) : QAbstractTableModel(parent), m_library(library)
{
    // Qt's model contract: begin* before the library's rows change, end* after.
    connect(library, &ObjectLibrary::aboutToReset, this, [this] { beginResetModel(); });
    connect(library, &ObjectLibrary::reset, this, [this] { endResetModel(); });
    connect(library, &ObjectLibrary::entryAboutToBeInserted, this, [this](int row) { beginInsertRows({}, row, row); });
    connect(library, &ObjectLibrary::entryInserted, this, [this] { endInsertRows(); });
    connect(library, &ObjectLibrary::entryAboutToBeRemoved, this, [this](int row) { beginRemoveRows({}, row, row); });
    connect(library, &ObjectLibrary::entryRemoved, this, [this] { endRemoveRows(); });
    connect(library, &ObjectLibrary::entryChanged, this, [this](int row) {
        Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    });
}

int ObjectTableModel::rowCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : m_library->count(); }
int ObjectTableModel::columnCount(const QModelIndex &parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ObjectTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Name: return tr("Name");
    case Source: return tr("Source");
    case Size: return tr("Size");
    case Present: return tr("Present");
    case OnDisk: return tr("On disk");
    case InFlight: return tr("In flight");
    case Speed: return tr("Speed");
    case Eta: return tr("Left / ETA");
    case State: return tr("State");
    }
    return {};
}

QString ObjectTableModel::durationText(qint64 seconds)
{
    if (seconds < 0)
        return QStringLiteral("—");
    const qint64 h = seconds / 3600, m = seconds / 60 % 60, sec = seconds % 60;
    return h > 0 ? QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(sec, 2, 10, QLatin1Char('0'))
                 : QStringLiteral("%1:%2").arg(m).arg(sec, 2, 10, QLatin1Char('0'));
}

QVariant ObjectTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_library->count())
        return {};
    const LibraryEntry &e = m_library->entry(index.row());
    const double pct = e.size > 0 ? 100.0 * double(e.presentBytes) / double(e.size) : (e.size == 0 ? 100.0 : 0.0);
    if (role == ProgressRole)
        return e.operationPercent;
    if (role == SortRole) {
        switch (index.column()) {
        case Size: return e.size;
        case Present: return e.presentBytes;
        case OnDisk: return e.allocatedBytes + e.packedDiskBytes;
        case InFlight: return e.inFlightChunks;
        case Speed: return e.bytesPerSecond;
        case Eta: return e.etaSeconds;
        default: return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() >= Size && index.column() <= Eta)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        if (!e.lastError.isEmpty() && (e.state == EntryState::Error || e.state == EntryState::ChangedUpstream))
            return e.lastError;
        if (index.column() == Source || index.column() == Name)
            return e.source;
        if (index.column() == OnDisk)
            return e.packedDiskBytes > 0 ? tr("%1 bytes loose in the cache entry, %2 bytes its share of the packs (after compression "
                                              "and deduplication)").arg(e.allocatedBytes).arg(e.packedDiskBytes)
                                         : tr("Disk blocks held by the cache entry (%1 bytes)").arg(e.allocatedBytes);
        return {};
    }
    if (role == Qt::ForegroundRole && index.column() == State) {
        if (e.state == EntryState::Error)
            return theme::errorText(QGuiApplication::palette());
        if (e.state == EntryState::ChangedUpstream)
            return theme::warningText(QGuiApplication::palette());
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Name: return e.name;
    case Source: return e.source;
    case Size: return e.size >= 0 ? formatBytes(e.size) : QStringLiteral("—");
    case Present:
        return e.size >= 0 ? QStringLiteral("%1 (%2%)").arg(formatBytes(e.presentBytes), QString::number(pct, 'f', 1))
                           : QStringLiteral("—");
    case OnDisk: return e.directory.isEmpty() ? QStringLiteral("—") : formatBytes(e.allocatedBytes + e.packedDiskBytes);
    case InFlight: return e.object ? (e.inFlightChunks > 0 ? tr("%1 chunks").arg(e.inFlightChunks) : QStringLiteral("—")) : QStringLiteral("—");
    case Speed: return e.bytesPerSecond > 0 ? tr("%1/s").arg(formatBytes(qint64(e.bytesPerSecond))) : QStringLiteral("—");
    case Eta:
        if (e.remainingBytes < 0)
            return QStringLiteral("—");
        return e.etaSeconds >= 0 ? tr("%1, %2").arg(formatBytes(e.remainingBytes), durationText(e.etaSeconds)) : formatBytes(e.remainingBytes);
    case State:
        if (e.retryAtMs >= 0)
            return tr("error, retrying in %1 s").arg(m_library->retryInSeconds(index.row()));
        if (e.object && e.object->isPaused())
            return e.operation.isEmpty() ? tr("paused") : tr("%1 paused at %2%").arg(e.operation).arg(std::max(0, e.operationPercent));
        if (!e.operation.isEmpty())
            return e.operationPercent >= 0 && !e.operationRanges.isEmpty() ? tr("%1… %2%").arg(e.operation).arg(e.operationPercent)
                                                                          : tr("%1…").arg(e.operation);
        switch (e.state) {
        case EntryState::NotOpen: return e.directory.isEmpty() ? tr("not cached") : tr("cached");
        case EntryState::Opening: return tr("opening…");
        case EntryState::Idle: return tr("idle");
        case EntryState::Fetching: return tr("fetching");
        case EntryState::Working: return tr("working");
        case EntryState::Error: return tr("error");
        case EntryState::ChangedUpstream: return tr("changed upstream");
        }
    }
    return {};
}

} // namespace sparsescope
