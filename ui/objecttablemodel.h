#pragma once
// ObjectTableModel: the object table — one row per ObjectLibrary entry with name, source, size,
// present (bytes and %), allocated on disk, in flight, speed, remaining bytes with ETA, and state (idle / fetching / error /
// changed upstream, or the running operation with its progress). GUI thread only.

#include <QAbstractTableModel>

namespace sparsescope {

class ObjectLibrary;

class ObjectTableModel final : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Source, Size, Present, OnDisk, InFlight, Speed, Eta, State, ColumnCount };
    // "1:05", "2:03:10"; "—" when unknown (negative).
    static QString durationText(qint64 seconds);
    enum Roles { SortRole = Qt::UserRole + 1, ProgressRole };

    explicit ObjectTableModel(ObjectLibrary *library, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    ObjectLibrary *m_library;
};

} // namespace sparsescope
